// JSON Schema counts a string's length in characters (code points), and ajv counts every string's code points
// for maxLength and minLength, whatever its length: 6 of the 8 ms that a 10,000-item create_disbursements
// takes to validate. A string has at least half as many characters as UTF-16 units and at most as many, so
// only a string near its limit needs counting. The keywords generate code as ajv's own do (ajv is Fastify's
// validator), with the same verdicts and the same error objects.
import { _, type Ajv, type KeywordCxt, type KeywordErrorDefinition, str } from 'ajv';

/** Characters (code points) of `s`: a surrogate pair counts once, as JSON Schema and ajv count. */
export function characters(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    n++;
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

const error: KeywordErrorDefinition = {
  message: ({ keyword, schemaCode }) =>
    str`must NOT have ${keyword === 'maxLength' ? 'more' : 'fewer'} than ${schemaCode} characters`,
  params: ({ schemaCode }) => _`{limit: ${schemaCode}}`,
};

/** An ajv plugin (Fastify's `ajv.plugins`): maxLength and minLength that count only near the limit. */
export function stringLengthKeywords(ajv: Ajv): Ajv {
  for (const keyword of ['maxLength', 'minLength'] as const) {
    ajv.removeKeyword(keyword);
    ajv.addKeyword({
      keyword,
      type: 'string',
      schemaType: 'number',
      $data: true,
      error,
      code(cxt: KeywordCxt) {
        const { data, schemaCode } = cxt;
        const count = cxt.gen.scopeValue('func', { ref: characters });
        cxt.fail$data(
          keyword === 'maxLength'
            ? _`${data}.length > ${schemaCode} && ${count}(${data}) > ${schemaCode}`
            : _`${data}.length < 2 * ${schemaCode} && ${count}(${data}) < ${schemaCode}`,
        );
      },
    });
  }
  return ajv;
}
