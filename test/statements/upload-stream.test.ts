// The statement upload as a stream: the file reaches the database in pieces inside one transaction, so a file
// refused or cut off late (after pieces were written) leaves nothing behind; the account scan over pieces
// names what the whole-text scan names.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers } from '../../src/pipeline/index.js';
import {
  STATEMENT_CHUNK_CHARS,
  StatementAccountScan,
  statementAccounts,
} from '../../src/statements/upload.js';
import { expectUnchanged } from '../api/helpers.js';
import { FakeBank, FakeMapper } from '../pipeline/fakes.js';
import { seedEnvelope, seedProgram, statementText, workerContext } from '../pipeline/fixtures.js';
import { lifecycle, statementRow } from '../pipeline/helpers.js';
import { type TestApp, testApp } from '../support/app.js';

const BOUNDARY = '----g2pbridge-stream';
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const HEAD = Buffer.from(
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="statement_file"; filename="big.sta"\r\n\r\n`,
);
const TAIL = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

/** An MT940 statement of `n` debits (about 80 bytes each), with a non-ASCII narrative now and then. */
function statement(n: number): string {
  const lines = [':20:STREAM-1', ':25:ACC0001', ':28C:1/1', ':60F:C300310USD99999999,00'];
  for (let i = 1; i <= n; i++)
    lines.push(`:61:3003100310D1,00NTRFD${i}//BR${i}`, `:86:Benefit${i % 97 === 0 ? ' Zoë – €' : ''}`);
  lines.push(`:62F:C300310USD${99999999 - n},00`, '-');
  return lines.join('\r\n');
}

/** The body as a stream of `size`-byte pieces, counting how many were pulled; `fail` breaks it at piece k. */
function pieces(body: Buffer, size: number, fail?: number): { stream: Readable; pulled: () => number } {
  let pulled = 0;
  async function* gen() {
    for (let at = 0; at < body.length; at += size) {
      if (fail !== undefined && pulled === fail) throw new Error('the connection broke');
      pulled++;
      yield body.subarray(at, at + size);
    }
  }
  return { stream: Readable.from(gen(), { objectMode: false }), pulled: () => pulled };
}

describe('a streamed statement upload', () => {
  let t: TestApp;
  let bank: string;
  beforeAll(async () => {
    t = await testApp({ MAX_STATEMENT_BYTES: String(6 * 1024 * 1024) });
    bank = await t.token('bank');
  });
  afterAll(async () => t.close());

  const post = (payload: Readable | Buffer) =>
    t.app.inject({
      method: 'POST',
      url: '/upload_mt940',
      payload,
      headers: { authorization: `Bearer ${bank}`, 'content-type': CONTENT_TYPE },
    });

  it('stores a file of several pieces: the text whole in the lob, in order in the chunks, hashed', async () => {
    const text = statement(40_000); // ~2.5 MB: three pieces
    const bytes = Buffer.from(text);
    const res = await post(pieces(Buffer.concat([HEAD, bytes, TAIL]), 65_536).stream);
    expect(res.statusCode, res.body).toBe(200);
    const id = res.json().statement_id as string;
    expect(res.json().message).toEqual({
      statement_id: id,
      content_sha256: createHash('sha256').update(bytes).digest('hex'),
      size_bytes: bytes.length,
    });
    const { rows } = await t.ctx.db.query<{ same: boolean; chunks: number; largest: number }>(
      `SELECT (SELECT statement_lob FROM account_statement_lob WHERE statement_id = $1) = $2 AS same,
              count(*)::int AS chunks, max(length(content))::int AS largest
         FROM account_statement_chunk WHERE statement_id = $1`,
      [id, text],
    );
    // Pieces of STATEMENT_CHUNK_CHARS, the last one excepted.
    expect(rows[0]!.same).toBe(true);
    expect(rows[0]!.chunks).toBe(Math.ceil(text.length / STATEMENT_CHUNK_CHARS));
    expect(rows[0]!.largest).toBe(STATEMENT_CHUNK_CHARS);
    const { rows: joined } = await t.ctx.db.query<{ same: boolean }>(
      `SELECT string_agg(content, '' ORDER BY seq) = $2 AS same FROM account_statement_chunk WHERE statement_id = $1`,
      [id, text],
    );
    expect(joined[0]!.same).toBe(true);
  });

  it('cuts pieces of STATEMENT_CHUNK_CHARS whatever the body’s reads, never inside a surrogate pair', async () => {
    // A character outside the BMP (two UTF-16 units) across every piece boundary, the body in one read.
    const base = statement(40_000);
    let text = '';
    for (let at = 0; at < base.length; ) {
      const take = STATEMENT_CHUNK_CHARS - 1 - (text.length % STATEMENT_CHUNK_CHARS);
      text += `${base.slice(at, at + take)}\u{1F600}`;
      at += take;
    }
    expect(text.charCodeAt(STATEMENT_CHUNK_CHARS - 1)).toBe(0xd83d);
    const res = await post(Buffer.concat([HEAD, Buffer.from(text), TAIL]));
    expect(res.statusCode, res.body).toBe(200);
    const id = res.json().statement_id as string;
    const { rows } = await t.ctx.db.query<{
      same: boolean;
      joined: boolean;
      chunks: number;
      largest: number;
    }>(
      `SELECT (SELECT statement_lob FROM account_statement_lob WHERE statement_id = $1) = $2 AS same,
              string_agg(content, '' ORDER BY seq) = $2 AS joined,
              count(*)::int AS chunks, max(length(content))::int AS largest
         FROM account_statement_chunk WHERE statement_id = $1`,
      [id, text],
    );
    expect(rows[0]).toMatchObject({ same: true, joined: true });
    expect(rows[0]!.chunks).toBeGreaterThanOrEqual(3);
  });

  it('leaves nothing behind when a NUL byte comes after pieces were written', async () => {
    const bytes = Buffer.concat([Buffer.from(statement(40_000)), Buffer.from([0]), Buffer.from('\r\n-')]);
    const res = await expectUnchanged(t, () =>
      post(pieces(Buffer.concat([HEAD, bytes, TAIL]), 65_536).stream),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      header: { status: 'rjct', status_reason_code: 'STATEMENT_UPLOAD_ERROR' },
      statement_id: null,
    });
    expect(res.json().header.status_reason_message).toMatch(/NUL/);
  });

  it('leaves nothing behind when the form breaks after the file (a second file), however large the file', async () => {
    const file = Buffer.concat([HEAD, Buffer.from(statement(40_000)), Buffer.from(`\r\n--${BOUNDARY}\r\n`)]);
    const second = Buffer.from(
      `Content-Disposition: form-data; name="other"; filename="x"\r\n\r\nx\r\n--${BOUNDARY}--\r\n`,
    );
    const res = await expectUnchanged(t, () => post(pieces(Buffer.concat([file, second]), 65_536).stream));
    expect(res.json()).toMatchObject({ header: { status: 'rjct' }, statement_id: null });
    expect(res.json().header.status_reason_message).toMatch(/one file/);
  });

  it('leaves nothing behind when the connection breaks in the middle of the file', async () => {
    const body = Buffer.concat([HEAD, Buffer.from(statement(40_000)), TAIL]);
    const broken = pieces(body, 65_536, 30); // after ~2 MB: two pieces of text written
    await expectUnchanged(t, async () => {
      const res = await post(broken.stream).catch((error: Error) => error);
      if (!(res instanceof Error)) expect(res.statusCode).toBeGreaterThanOrEqual(400);
      // The client may see the cut before the bridge has deleted the pieces it staged (it does so at once).
      for (;;) {
        const { rows } = await t.ctx.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM account_statement_upload',
        );
        if (rows[0]!.n === 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    expect(broken.pulled()).toBe(30);
    // The bridge takes the same file whole afterwards.
    expect((await post(body)).json().header.status).toBe('succ');
  });

  it('refuses a body over the limit with 413 as it streams in, without reading it all', async () => {
    const big = Buffer.concat([HEAD, Buffer.alloc(8 * 1024 * 1024, 'A'), TAIL]);
    const over = pieces(big, 65_536);
    const res = await expectUnchanged(t, () => post(over.stream));
    expect(res.statusCode).toBe(413);
    expect(res.json().header.status_reason_code).toBe('REQUEST_TOO_LARGE');
    expect(over.pulled()).toBeLessThan(big.length / 65_536);
  });
});

describe('the statement stage', () => {
  it('reads an upload from its stored pieces, not from the lob', async () => {
    const t = await testApp({ MAX_STATEMENT_BYTES: String(6 * 1024 * 1024) });
    const db = t.ctx.db;
    const bank = new FakeBank();
    const workers = startWorkers(workerContext(db), {
      poll: false,
      mapper: new FakeMapper(),
      connectors: { getBankConnector: () => bank },
    });
    try {
      await seedProgram(db, { mnemonic: 'CASH', account: '1000200030', bankCode: 'FAKE', resolution: false });
      await seedEnvelope(db, {
        id: 'E1',
        program: 'CASH',
        batches: [
          [
            { id: 'd1', beneficiaryId: 'B1', amount: '10.00' },
            { id: 'd2', beneficiaryId: 'B2', amount: '10.00' },
          ],
        ],
      });
      await workers.runOnce();
      // Two debits, then enough credits (top-ups, not reconciled) for the text to take two pieces.
      const text = statementText([
        { mark: 'D', id: 'd1' },
        { mark: 'D', id: 'd2' },
        ...Array.from({ length: 16_000 }, (_, i) => ({ mark: 'C' as const, id: `TOPUP${i}` })),
      ]);
      expect(text.length).toBeGreaterThan(STATEMENT_CHUNK_CHARS);
      const res = await t.app.inject({
        method: 'POST',
        url: '/upload_mt940',
        payload: Buffer.concat([HEAD, Buffer.from(text), TAIL]),
        headers: { authorization: `Bearer ${await t.token('bank')}`, 'content-type': CONTENT_TYPE },
      });
      const id = res.json().statement_id as string;
      // Were the lob read (a view joining the kept pieces, migration 017), the statement would end as ERROR.
      await db.query(
        `UPDATE account_statement_text SET content = 'not a statement' WHERE statement_id = $1`,
        [id],
      );
      await workers.runOnce();
      expect(await statementRow(db, id)).toMatchObject({ status: 'PROCESSED' });
      expect(Object.fromEntries((await lifecycle(db, 'E1')).map((r) => [r.id, r.status]))).toEqual({
        d1: 'reconciled',
        d2: 'reconciled',
      });
      // Read once, the pieces go: a statement is stored once (in the lob) after the stage is done with it.
      const { rows: left } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM account_statement_chunk WHERE statement_id = $1',
        [id],
      );
      expect(left[0]!.n).toBe(0);
      // The kept pieces stay: account_statement_lob still gives the whole text (here, as altered above).
      const { rows: kept } = await db.query<{ lob: string }>(
        'SELECT statement_lob AS lob FROM account_statement_lob WHERE statement_id = $1',
        [id],
      );
      expect(kept[0]!.lob.startsWith('not a statement')).toBe(true);
    } finally {
      await workers.stop();
      await t.close();
    }
  });
});

describe('StatementAccountScan', () => {
  const token = fc.oneof(
    fc.constantFrom(
      ':25:ACC1',
      ':25P:BANKX/ACC2',
      ':25:',
      ':2',
      '5:ACC3',
      '\r\n',
      '\n',
      '\r',
      ' ',
      '<Acct>',
      '<ns:Acct a="1">',
      '</Acct>',
      '</ns:Acct >',
      '<Acct/>',
      '<Id><IBAN>DE89370400440532013000</IBAN></Id>',
      '<Id><Othr><Id>ACC-9</Id></Othr></Id>',
      '<IBAN></IBAN>',
      '<!-- x -->',
      '<',
      'Acct>',
      '<Ac',
      '<Document>',
    ),
    fc.string({ maxLength: 6 }),
  );
  const text = fc.array(token, { maxLength: 40 }).map((ts) => ts.join(''));
  const cuts = fc.array(fc.nat({ max: 400 }), { maxLength: 10 });

  it('names what statementAccounts names in the whole text, wherever the text is cut', () => {
    fc.assert(
      fc.property(text, cuts, fc.constantFrom('MT940', 'CAMT053', null), (whole, at, format) => {
        const scan = new StatementAccountScan();
        let from = 0;
        for (const cut of [...new Set(at.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b)) {
          scan.push(whole.slice(from, cut));
          from = cut;
        }
        scan.push(whole.slice(from));
        expect(scan.end(format)).toEqual(statementAccounts(whole, format));
      }),
      { numRuns: 3000 },
    );
  });
});
