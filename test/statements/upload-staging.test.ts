// A statement upload is staged piece by piece, each piece committed on its own, so the database (PGlite's one
// connection) answers others while the body arrives; the statement exists only after a short closing
// transaction that adopts the pieces. Hostile cases: the connection cut mid-body, two uploads at once, an upload
// refused or failing at the very end, the statement stage running during an upload, housekeeping while an
// upload is in progress and after its process died. Every one must leave either the whole statement or nothing
// (no statement row, no piece, no lease).
import { Readable } from 'node:stream';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers } from '../../src/pipeline/index.js';
import { purgeAbandonedUploads, STATEMENT_CHUNK_CHARS } from '../../src/statements/upload.js';
import { expectUnchanged, snapshot } from '../api/helpers.js';
import { FakeBank, FakeMapper } from '../pipeline/fakes.js';
import { seedEnvelope, seedProgram, statementText, workerContext } from '../pipeline/fixtures.js';
import { lifecycle, statementRow } from '../pipeline/helpers.js';
import { type TestApp, testApp } from '../support/app.js';

const BOUNDARY = '----g2pbridge-staging';
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const HEAD = Buffer.from(
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="statement_file"; filename="big.sta"\r\n\r\n`,
);
const TAIL = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
const SECRET = 'test-secret-0123456789abcdef';
/** Sent past a piece's size, so that the reader (which holds back a boundary's length) has flushed the piece. */
const AHEAD = 300_000;
const TWO_PIECES = 2 * STATEMENT_CHUNK_CHARS + AHEAD;

/** An MT940 statement of `n` debits of account `account` (about 70 bytes each). */
function statement(n: number, account = 'ACC0001', tag = 'STAGE'): string {
  const lines = [`:20:${tag}`, `:25:${account}`, ':28C:1/1', ':60F:C300310USD99999999,00'];
  for (let i = 1; i <= n; i++) lines.push(`:61:3003100310D1,00NTRFD${i}//BR${i}`, `:86:Benefit ${tag}`);
  lines.push(`:62F:C300310USD${99999999 - n},00`, '-');
  return lines.join('\r\n');
}

/** A request body the test feeds by hand: `send` pushes bytes, `end` closes it, `cut` breaks the connection. */
function body() {
  const stream = new Readable({ read() {} });
  return {
    stream,
    /** As a network delivers it: in pieces of 64 KiB. */
    send(bytes: Buffer) {
      for (let at = 0; at < bytes.length; at += 65_536) stream.push(bytes.subarray(at, at + 65_536));
    },
    end: () => stream.push(null),
    cut: () => stream.destroy(new Error('the connection broke')),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a statement upload staged piece by piece', () => {
  let t: TestApp;
  let bank: string;
  beforeAll(async () => {
    t = await testApp({ MAX_STATEMENT_BYTES: String(8 * 1024 * 1024) });
    bank = await t.token('bank');
  });
  afterAll(async () => t.close());

  const post = (payload: Readable | Buffer, token = bank, url = '/upload_mt940') =>
    t.app.inject({
      method: 'POST',
      url,
      payload,
      headers: { authorization: `Bearer ${token}`, 'content-type': CONTENT_TYPE },
    });

  /** Pieces staged (no statement yet) and lease rows, as another reader of the database sees them now. */
  async function staged(): Promise<{ pieces: number; texts: number; leases: number }> {
    const { rows } = await t.ctx.db.query<{ pieces: number; texts: number; leases: number }>(
      `SELECT (SELECT count(*)::int FROM account_statement_chunk WHERE statement_id IS NULL) AS pieces,
              (SELECT count(*)::int FROM account_statement_text WHERE statement_id IS NULL) AS texts,
              (SELECT count(*)::int FROM account_statement_upload) AS leases`,
    );
    return rows[0]!;
  }

  /** Waits until at least `n` pieces are staged: the database answers (and shows them) while the body arrives. */
  async function untilStaged(n: number): Promise<void> {
    for (;;) {
      if ((await staged()).pieces >= n) return;
      await sleep(5);
    }
  }

  async function statements(): Promise<number> {
    const { rows } = await t.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM account_statement');
    return rows[0]!.n;
  }

  async function storedText(
    id: string,
  ): Promise<{ lob: string | null; joined: string | null; pieces: number }> {
    const { rows } = await t.ctx.db.query<{ lob: string | null; joined: string | null; pieces: number }>(
      `SELECT (SELECT statement_lob FROM account_statement_lob WHERE statement_id = $1) AS lob,
              string_agg(content, '' ORDER BY seq) AS joined, count(*)::int AS pieces
         FROM account_statement_chunk WHERE statement_id = $1`,
      [id],
    );
    return rows[0]!;
  }

  it('commits pieces while the body arrives, shows no statement until the end, then the whole of it', async () => {
    const text = statement(50_000); // ~3 MB: two pieces staged before the end
    const bytes = Buffer.from(text);
    const before = await statements();
    const b = body();
    const answer = post(b.stream);
    b.send(HEAD);
    b.send(bytes.subarray(0, TWO_PIECES));
    await untilStaged(2);
    expect(await statements()).toBe(before);
    expect(await staged()).toEqual({ pieces: 2, texts: 2, leases: 1 });
    b.send(bytes.subarray(TWO_PIECES));
    b.send(TAIL);
    b.end();
    const res = await answer;
    expect(res.statusCode, res.body).toBe(200);
    const id = res.json().statement_id as string;
    expect(await statements()).toBe(before + 1);
    const stored = await storedText(id);
    expect(stored.lob === text).toBe(true);
    expect(stored.joined === text).toBe(true);
    expect(stored.pieces).toBeGreaterThanOrEqual(2);
    // Kept as its pieces (account_statement_lob joins them when read), never joined into one value here.
    const { rows: whole } = await t.ctx.db.query<{ n: number; kept: number }>(
      `SELECT (SELECT count(*)::int FROM account_statement_whole_text WHERE statement_id = $1) AS n,
              (SELECT count(*)::int FROM account_statement_text WHERE statement_id = $1) AS kept`,
      [id],
    );
    expect(whole[0]).toEqual({ n: 0, kept: stored.pieces });
    expect(await staged()).toEqual({ pieces: 0, texts: 0, leases: 0 });
  });

  it('leaves nothing when the connection is cut after pieces were committed', async () => {
    const bytes = Buffer.from(statement(50_000));
    await expectUnchanged(t, async () => {
      const b = body();
      const answer = post(b.stream).catch((error: Error) => error);
      b.send(HEAD);
      b.send(bytes.subarray(0, TWO_PIECES));
      await untilStaged(2);
      b.cut();
      const res = await answer;
      if (!(res instanceof Error)) expect(res.statusCode).toBeGreaterThanOrEqual(400);
      // The client may see the cut before the bridge has deleted what it staged: it does so at once, though.
      while ((await staged()).leases > 0) await sleep(5);
    });
    expect(await staged()).toEqual({ pieces: 0, texts: 0, leases: 0 });
  });

  it('stores two uploads that arrive at the same time, each with its own text and pieces', async () => {
    const texts = [statement(30_000, 'ACC0001', 'FIRST'), statement(36_000, 'ACC0002', 'SECOND')];
    const bodies = texts.map(() => body());
    const answers = bodies.map((b) => post(b.stream));
    const halves = texts.map((x) => {
      const bytes = Buffer.from(x);
      const cut = STATEMENT_CHUNK_CHARS + AHEAD;
      return [bytes.subarray(0, cut), bytes.subarray(cut)] as const;
    });
    for (const [i, b] of bodies.entries()) {
      b.send(HEAD);
      b.send(halves[i]![0]);
    }
    await untilStaged(2); // a piece of each, interleaved
    for (const [i, b] of bodies.entries()) {
      b.send(halves[i]![1]);
      b.send(TAIL);
      b.end();
    }
    const res = await Promise.all(answers);
    const ids = res.map((r) => {
      expect(r.statusCode, r.body).toBe(200);
      return r.json().statement_id as string;
    });
    expect(new Set(ids).size).toBe(2);
    for (const [i, id] of ids.entries()) {
      const stored = await storedText(id);
      expect(stored.lob === texts[i]).toBe(true);
      expect(stored.joined === texts[i]).toBe(true);
    }
    expect(await staged()).toEqual({ pieces: 0, texts: 0, leases: 0 });
    // The same file again is stored again (the statement stage, not the upload, recognises a copy).
    const again = await post(Buffer.concat([HEAD, Buffer.from(texts[0]!), TAIL]));
    expect(again.json().header.status).toBe('succ');
    expect(again.json().statement_id).not.toBe(ids[0]);
    expect((await storedText(again.json().statement_id)).joined === texts[0]).toBe(true);
    expect((await storedText(ids[0]!)).joined === texts[0]).toBe(true);
  });

  it('leaves no staged piece when the file is found not to be text at its very end', async () => {
    const bytes = Buffer.concat([Buffer.from(statement(50_000)), Buffer.from([0xc3])]); // a cut UTF-8 sequence
    const res = await expectUnchanged(t, () => post(Buffer.concat([HEAD, bytes, TAIL])));
    expect(res.json()).toMatchObject({ header: { status: 'rjct' }, statement_id: null });
    expect(res.json().header.status_reason_message).toMatch(/UTF-8/);
    expect(await staged()).toEqual({ pieces: 0, texts: 0, leases: 0 });
  });

  it('leaves no staged piece when the account is refused at the end (a caller scoped to another bank)', async () => {
    const scoped = await new SignJWT({ roles: ['bank'], bank_codes: ['SOMEBANK'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bank-scoped')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    const bytes = Buffer.from(statement(50_000, 'UNKNOWN-ACCOUNT'));
    const res = await expectUnchanged(t, () => post(Buffer.concat([HEAD, bytes, TAIL]), scoped));
    expect(res.statusCode).toBe(403);
    expect(await staged()).toEqual({ pieces: 0, texts: 0, leases: 0 });
  });

  it('leaves nothing when the closing transaction fails', async () => {
    await t.ctx.db.exec(`
      CREATE FUNCTION test_refuse_statement() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
      CREATE TRIGGER test_refuse_statement BEFORE INSERT ON audit_event
        FOR EACH ROW EXECUTE FUNCTION test_refuse_statement();`);
    try {
      const bytes = Buffer.from(statement(50_000));
      const res = await expectUnchanged(t, () => post(Buffer.concat([HEAD, bytes, TAIL])));
      expect(res.statusCode).toBe(500);
      expect(await staged()).toEqual({ pieces: 0, texts: 0, leases: 0 });
    } finally {
      await t.ctx.db.exec(`DROP TRIGGER test_refuse_statement ON audit_event;
        DROP FUNCTION test_refuse_statement();`);
    }
  });

  describe('housekeeping', () => {
    /** What a process that died mid-upload leaves: a lease run out and its committed pieces. */
    async function deadUpload(id: string, pieces: number) {
      await t.ctx.db.query(
        `INSERT INTO account_statement_upload (upload_id, started_at, expires_at)
         VALUES ($1, now() - interval '1 hour', now() - interval '50 minutes')`,
        [id],
      );
      for (const table of ['account_statement_chunk', 'account_statement_text'])
        await t.ctx.db.query(
          `INSERT INTO ${table} (upload_id, seq, content)
           SELECT $1, s, repeat('x', 1000) FROM generate_series(0, $2 - 1) s`,
          [id, pieces],
        );
    }

    it('purges the pieces of a dead process, and not those of an upload in progress or of a statement', async () => {
      const stored = await post(Buffer.concat([HEAD, Buffer.from(statement(20_000)), TAIL]));
      const storedId = stored.json().statement_id as string;
      const storedPieces = (await storedText(storedId)).pieces;
      expect(storedPieces).toBeGreaterThan(0);

      const text = statement(50_000);
      const bytes = Buffer.from(text);
      const b = body();
      const answer = post(b.stream);
      b.send(HEAD);
      b.send(bytes.subarray(0, TWO_PIECES));
      await untilStaged(2);
      await deadUpload('dead-1', 3);
      // A piece whose lease row is gone (a purge that raced the piece's insert) is purged too.
      await t.ctx.db.query(
        `INSERT INTO account_statement_chunk (upload_id, seq, content) VALUES ('orphan-1', 0, 'x')`,
      );
      expect(await staged()).toEqual({ pieces: 6, texts: 5, leases: 2 });

      expect(await purgeAbandonedUploads(t.ctx.db)).toBe(7);
      expect(await staged()).toEqual({ pieces: 2, texts: 2, leases: 1 });
      expect((await storedText(storedId)).pieces).toBe(storedPieces);

      b.send(bytes.subarray(TWO_PIECES));
      b.send(TAIL);
      b.end();
      const res = await answer;
      expect(res.statusCode, res.body).toBe(200);
      expect((await storedText(res.json().statement_id)).lob === text).toBe(true);
      expect(await staged()).toEqual({ pieces: 0, texts: 0, leases: 0 });
    });

    it('an upload whose lease ran out and was purged stores nothing when its body ends', async () => {
      const bytes = Buffer.from(statement(50_000));
      const before = await snapshot(t);
      const b = body();
      const answer = post(b.stream);
      b.send(HEAD);
      b.send(bytes.subarray(0, TWO_PIECES));
      await untilStaged(2);
      // As if this process had stalled past the lease: housekeeping (of another process) purges it.
      await t.ctx.db.query(`UPDATE account_statement_upload SET expires_at = now() - interval '1 second'`);
      expect(await purgeAbandonedUploads(t.ctx.db)).toBe(4);
      b.send(bytes.subarray(TWO_PIECES));
      b.send(TAIL);
      b.end();
      const res = await answer;
      expect(res.statusCode).toBe(500);
      expect(await snapshot(t)).toEqual(before);
    });

    it('runs in the workers’ housekeeping', async () => {
      await deadUpload('dead-2', 2);
      const workers = startWorkers(workerContext(t.ctx.db), { stages: [], mapper: new FakeMapper() });
      try {
        while ((await staged()).pieces > 0) await sleep(10);
      } finally {
        await workers.stop();
      }
      expect(await staged()).toEqual({ pieces: 0, texts: 0, leases: 0 });
    });
  });
});

describe('the statement stage during an upload', () => {
  it('never sees a half statement: it finds nothing to do until the upload closes, then all of it', async () => {
    const t = await testApp({ MAX_STATEMENT_BYTES: String(8 * 1024 * 1024) });
    const db = t.ctx.db;
    const fake = new FakeBank();
    const workers = startWorkers(workerContext(db), {
      poll: false,
      mapper: new FakeMapper(),
      connectors: { getBankConnector: () => fake },
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
      // A debit in the first piece, credits (not reconciled) to fill pieces, the second debit in the last piece.
      const text = statementText([
        { mark: 'D', id: 'd1' },
        ...Array.from({ length: 24_000 }, (_, i) => ({ mark: 'C' as const, id: `TOPUP${i}` })),
        { mark: 'D', id: 'd2' },
      ]);
      const bytes = Buffer.from(text);
      expect(bytes.length).toBeGreaterThan(STATEMENT_CHUNK_CHARS + AHEAD);
      const b = body();
      const answer = t.app.inject({
        method: 'POST',
        url: '/upload_mt940',
        payload: b.stream,
        headers: { authorization: `Bearer ${await t.token('bank')}`, 'content-type': CONTENT_TYPE },
      });
      b.send(HEAD);
      b.send(bytes.subarray(0, STATEMENT_CHUNK_CHARS + AHEAD));
      for (;;) {
        const { rows } = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM account_statement_chunk WHERE statement_id IS NULL',
        );
        if (rows[0]!.n >= 1) break;
        await sleep(5);
      }
      expect((await workers.runOnce()).statement).toBe(0);
      b.send(bytes.subarray(STATEMENT_CHUNK_CHARS + AHEAD));
      b.send(TAIL);
      b.end();
      const res = await answer;
      expect(res.statusCode, res.body).toBe(200);
      expect((await workers.runOnce()).statement).toBe(1);
      expect(await statementRow(db, res.json().statement_id)).toMatchObject({ status: 'PROCESSED' });
      expect(Object.fromEntries((await lifecycle(db, 'E1')).map((r) => [r.id, r.status]))).toEqual({
        d1: 'reconciled',
        d2: 'reconciled',
      });
    } finally {
      await workers.stop();
      await t.close();
    }
  });
});
