import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.js';
import { expectUnchanged } from './helpers.js';

const STATEMENT = [
  ':20:STMT-0001',
  ':25:ACC0001',
  ':28C:1/1',
  ':60F:C300310USD1000,00',
  ':61:3003100310D100,00NTRFB0000001//BANKREF1',
  ':86:March benefit',
  ':62F:C300310USD900,00',
  '-',
].join('\r\n');

function multipart(content: Buffer, field = 'statement_file') {
  const boundary = '----g2pbridgetest';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="statement.sta"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    payload: Buffer.concat([head, content, tail]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

describe('upload_mt940', () => {
  let t: TestApp;
  let bank: string;
  beforeAll(async () => {
    t = await testApp({ MAX_STATEMENT_BYTES: '4096' });
    bank = await t.token('bank');
  });
  afterAll(async () => t.close());

  const upload = (content: Buffer, field?: string) => {
    const { payload, contentType } = multipart(content, field);
    return t.app.inject({
      method: 'POST',
      url: '/upload_mt940',
      payload,
      headers: { authorization: `Bearer ${bank}`, 'content-type': contentType },
    });
  };

  it('stores the statement text unchanged and answers its statement_id', async () => {
    const bytes = Buffer.from(`\uFEFF${STATEMENT}\r\n`, 'utf8');
    const res = await upload(bytes);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.header.status).toBe('succ');
    expect(body.statement_id).toEqual(expect.any(String));
    expect(body.response_error_code).toBeNull();
    // Compared inside the database: PGlite's driver drops a leading BOM when it hands text to JS.
    const { rows } = await t.ctx.db.query<{
      stored_sha256: string;
      content_sha256: string;
      size_bytes: number;
      statement_process_status: string;
      uploaded_by: string;
    }>(
      `SELECT encode(sha256(convert_to(l.statement_lob, 'UTF8')), 'hex') AS stored_sha256, s.content_sha256, s.size_bytes, s.statement_process_status, s.uploaded_by
       FROM account_statement s JOIN account_statement_lob l USING (statement_id) WHERE s.statement_id = $1`,
      [body.statement_id],
    );
    expect(rows[0]).toMatchObject({
      content_sha256: createHash('sha256').update(bytes).digest('hex'),
      size_bytes: bytes.length,
      statement_process_status: 'PENDING',
    });
    expect(rows[0]!.stored_sha256).toBe(rows[0]!.content_sha256);
  });

  it('refuses a statement over MAX_STATEMENT_BYTES with 413', async () => {
    const res = await expectUnchanged(t, () => upload(Buffer.alloc(5000, 'A')));
    expect(res.statusCode).toBe(413);
    expect(res.json().header.status_reason_code).toBe('REQUEST_TOO_LARGE');
  });

  it('refuses binary content with STATEMENT_UPLOAD_ERROR', async () => {
    for (const bytes of [
      Buffer.from([0x3a, 0x32, 0x30, 0x3a, 0x00, 0x41]),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe]),
      Buffer.alloc(0),
    ]) {
      const res = await expectUnchanged(t, () => upload(bytes));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        header: { status: 'rjct', status_reason_code: 'STATEMENT_UPLOAD_ERROR' },
        statement_id: null,
        response_error_code: 'STATEMENT_UPLOAD_ERROR',
      });
    }
  });

  it('needs the file in field statement_file, as multipart', async () => {
    const wrongField = await expectUnchanged(t, () => upload(Buffer.from(STATEMENT), 'file'));
    expect(wrongField.json().response_error_code).toBe('STATEMENT_UPLOAD_ERROR');
    const notMultipart = await t.app.inject({
      method: 'POST',
      url: '/upload_mt940',
      payload: { statement_file: STATEMENT },
      headers: { authorization: `Bearer ${bank}` },
    });
    expect(notMultipart.statusCode).toBe(415);
  });

  it('refuses two files in one upload with STATEMENT_UPLOAD_ERROR, not a 413', async () => {
    const one = multipart(Buffer.from(STATEMENT));
    const boundary = one.contentType.split('boundary=')[1]!;
    const part = one.payload.subarray(0, one.payload.length - `--${boundary}--\r\n`.length);
    const res = await expectUnchanged(t, () =>
      t.app.inject({
        method: 'POST',
        url: '/upload_mt940',
        payload: Buffer.concat([part, one.payload]),
        headers: { authorization: `Bearer ${bank}`, 'content-type': one.contentType },
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      header: { status: 'rjct', status_reason_code: 'STATEMENT_UPLOAD_ERROR' },
      response_error_code: 'STATEMENT_UPLOAD_ERROR',
      statement_id: null,
    });
  });

  it('answers a malformed or truncated multipart body with 400 STATEMENT_UPLOAD_ERROR, not a 500', async () => {
    const whole = multipart(Buffer.from(STATEMENT));
    const bodies: Array<[string | Buffer, string]> = [
      ['abc', 'multipart/form-data'],
      ['abc', 'multipart/form-data; boundary=xyz'],
      [whole.payload.subarray(0, whole.payload.length - 30), whole.contentType],
      [whole.payload.subarray(0, 60), whole.contentType],
      [
        '--xyz\r\nContent-Disposition: form-data; name="statement_file"; filename="a"\r\n\r\nabc',
        'multipart/form-data; boundary=xyz',
      ],
    ];
    for (const [payload, contentType] of bodies) {
      const res = await expectUnchanged(t, () =>
        t.app.inject({
          method: 'POST',
          url: '/upload_mt940',
          payload,
          headers: { authorization: `Bearer ${bank}`, 'content-type': contentType },
        }),
      );
      expect(res.statusCode, `${contentType}: ${res.body}`).toBe(400);
      expect(res.json()).toMatchObject({
        header: { status: 'rjct', status_reason_code: 'STATEMENT_UPLOAD_ERROR' },
        response_error_code: 'STATEMENT_UPLOAD_ERROR',
        statement_id: null,
      });
    }
    // The bridge still takes a good upload afterwards.
    expect((await upload(Buffer.from(STATEMENT))).json().header.status).toBe('succ');
  });

  // busboy/Dicer (under @fastify/multipart) never answered this: a part without Content-Disposition whose
  // content (≥ its 16 KiB highWaterMark) arrived in one write paused the parser for good.
  it('answers a large part without Content-Disposition (it used to hang) with 400', {
    timeout: 20_000,
  }, async () => {
    const b = '----gen-boundary-7';
    const noDisposition = Buffer.concat([
      Buffer.from(`--${b}\r\nContent-Type: text/plain\r\n\r\n`),
      Buffer.alloc(16_384, 'A'),
      Buffer.from(`\r\n--${b}--\r\n`),
    ]);
    // the same part, then a good statement_file part: still refused, the form as a whole is malformed
    const withFileAfter = Buffer.concat([
      noDisposition.subarray(0, noDisposition.length - `--${b}--\r\n`.length),
      Buffer.from(multipart(Buffer.from(STATEMENT)).payload.toString().replaceAll('----g2pbridgetest', b)),
    ]);
    for (const payload of [noDisposition, withFileAfter]) {
      const res = await expectUnchanged(t, () =>
        t.app.inject({
          method: 'POST',
          url: '/upload_mt940',
          payload,
          headers: { authorization: `Bearer ${bank}`, 'content-type': `multipart/form-data; boundary=${b}` },
        }),
      );
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({
        header: { status: 'rjct', status_reason_code: 'STATEMENT_UPLOAD_ERROR' },
        response_error_code: 'STATEMENT_UPLOAD_ERROR',
      });
      expect(res.json().header.status_reason_message).toMatch(/Content-Disposition/);
    }
  });

  it('answers an upload cut anywhere before its closing delimiter with 400', async () => {
    const whole = multipart(Buffer.alloc(3000, 'B'));
    const closing = whole.payload.length - '--\r\n'.length;
    for (const cut of [0, 1, 20, 100, 1500, 3100, closing - 3, closing - 1, closing]) {
      const res = await expectUnchanged(t, () =>
        t.app.inject({
          method: 'POST',
          url: '/upload_mt940',
          payload: whole.payload.subarray(0, cut),
          headers: { authorization: `Bearer ${bank}`, 'content-type': whole.contentType },
        }),
      );
      expect(res.statusCode, `cut at ${cut}: ${res.body}`).toBe(400);
      expect(res.json().response_error_code).toBe('STATEMENT_UPLOAD_ERROR');
    }
  });
});
