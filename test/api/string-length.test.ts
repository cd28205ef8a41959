// The maxLength and minLength keywords the API's validator uses (src/api/string-length.ts) against ajv's own:
// the same verdicts and the same error objects, for any string and limit.
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { characters, stringLengthKeywords } from '../../src/api/string-length.js';

describe('string length keywords', () => {
  it('counts characters as ajv does: a surrogate pair once, a lone surrogate once', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (s) => {
        expect(characters(s)).toBe([...s].length);
      }),
    );
    expect(characters('a😀b')).toBe(3);
    expect(characters('\ud800\ud800\udc00')).toBe(2);
  });

  it("gives the verdicts and errors of ajv's own keywords", () => {
    const theirs = new Ajv({ allErrors: true });
    const ours = stringLengthKeywords(new Ajv({ allErrors: true }));
    const unit = fc.constantFrom('a', '😀', '\ud800', '\udc00', 'é');
    fc.assert(
      fc.property(
        fc.array(unit, { maxLength: 30 }).map((u) => u.join('')),
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom('maxLength', 'minLength'),
        (s, limit, keyword) => {
          const schema = { type: 'object', properties: { v: { type: 'string', [keyword]: limit } } };
          const a = theirs.compile(schema);
          const b = ours.compile(schema);
          expect(b({ v: s })).toBe(a({ v: s }));
          const strip = (errors: typeof a.errors) =>
            (errors ?? []).map(({ keyword, message, params, instancePath }) => ({
              keyword,
              message,
              params,
              instancePath,
            }));
          expect(strip(b.errors)).toEqual(strip(a.errors));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
