// The statement stage reads an upload from its stored pieces (account_statement_chunk) as they come, twice,
// never the whole text: whatever the cut and the order the pieces were written in, the result is the one of
// the same text read whole from its lob (same recons, same errors, same resume after a lost lease). A piece
// missing or a text that reads differently the second time is a permanent error, never a partial count.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../src/db/index.js';
import { startWorkers } from '../../src/pipeline/index.js';
import { testDb } from '../support/db.js';
import { connectorsOf, FakeBank } from './fakes.js';
import {
  disbursements,
  type EntrySeed,
  resetBridge,
  seedEnvelope,
  seedProgram,
  statementText,
  uploadStatement,
  workerContext,
} from './fixtures.js';
import { cancelAndAmend, statementRow } from './helpers.js';
import { reconSnapshot, shipBatches } from './recon-helpers.js';

/** Two statements: right and wrong debits, repeats, a credit, reversals; names with characters of 2–4 bytes. */
function fileText(): string {
  const first: EntrySeed[] = [
    { mark: 'RD', id: 'k12', amount: '10.00', bankRef: 'RV0' },
    ...Array.from(
      { length: 20 },
      (_, i): EntrySeed => ({ mark: 'D', id: `k${i + 1}`, bankRef: `B${i + 1}` }),
    ),
    { mark: 'D', id: 'k21', amount: '0.01', bankRef: 'B21' },
    { mark: 'D', id: 'k2', bankRef: 'B2X' },
    { mark: 'C', id: 'TOPUP', amount: '500.00' },
    { mark: 'D', id: 'nope' },
  ];
  const second: EntrySeed[] = [
    ...Array.from(
      { length: 10 },
      (_, i): EntrySeed => ({ mark: 'D', id: `k${i + 21}`, bankRef: `B${i + 21}` }),
    ),
    { mark: 'RD', id: 'k1', amount: '10.00', reason: 'ACCOUNT_CLOSED' },
    { mark: 'RD', id: 'k2', amount: '1.00' },
    { mark: 'RD', id: 'k4', amount: '10.00', reason: 'ACCOUNT_DORMANT' },
  ];
  let n = 0;
  return (
    statementText(first, { reference: 'BIG', number: '7' }) +
    statementText(second, { reference: 'BIG', number: '8' })
  ).replace(/\r\nName\r\n/g, () => `\r\n${['Zoë', 'Zoë €', 'Ana 😀', 'Name'][n++ % 4]}\r\n`);
}

/** Stores `text` as an upload leaves it (pieces adopted: upload_id = statement_id), its pieces cut at `cuts` and written in `order` (of the piece indexes). */
async function uploadPieces(
  db: Db,
  text: string,
  cuts: number[],
  order?: (pieces: number) => number[],
): Promise<string> {
  const id = `ST-${randomUUID()}`;
  const at = [0, ...cuts, text.length];
  const pieces = at.slice(1).map((end, i) => text.slice(at[i], end));
  expect(pieces.join('')).toBe(text);
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO account_statement (statement_id, content_sha256, size_bytes) VALUES ($1, $2, $3)`,
      [id, createHash('sha256').update(text).digest('hex'), Buffer.byteLength(text)],
    );
    await tx.query(`INSERT INTO account_statement_lob (statement_id, statement_lob) VALUES ($1, $2)`, [
      id,
      text,
    ]);
    for (const i of order ? order(pieces.length) : pieces.map((_, k) => k))
      await tx.query(
        `INSERT INTO account_statement_chunk (statement_id, upload_id, seq, content) VALUES ($1, $1, $2, $3)`,
        [id, i, pieces[i]],
      );
  });
  return id;
}

/** Cuts every `size` characters, never inside a surrogate pair (the database stores whole characters). */
function every(text: string, size: number): number[] {
  const cuts: number[] = [];
  for (let p = size; p < text.length; p += size) {
    const c = text.charCodeAt(p - 1);
    cuts.push(c >= 0xd800 && c <= 0xdbff ? p + 1 : p);
  }
  return [...new Set(cuts)].filter((p) => p < text.length);
}

/** A Db whose `at`-th chunk loses its lease just before it commits (the chunk rolls back). */
function losingLeaseAt(db: Db, at: number): Db {
  let advances = 0;
  return {
    ...db,
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          async query(sql, params) {
            if (sql.includes('SET reconcile_cursor = $4, lease_expires_at') && ++advances === at)
              await tx.query(`UPDATE account_statement SET lease_owner = 'another-worker'`);
            return tx.query(sql, params);
          },
        } as Queryable),
      ),
  };
}

/** A Db whose reads of the piece `seq` give `change(content)` from the `from`-th reading on. */
function changingPiece(db: Db, seq: number, from: number, change: (s: string) => string): Db {
  let readings = 0;
  return {
    ...db,
    async query(sql, params) {
      const result = await db.query(sql, params);
      if (!sql.includes('FROM account_statement_chunk') || !sql.includes('seq > $2')) return result;
      const rows = (result.rows as Array<{ seq: number; content: string }>).map((r) =>
        r.seq === seq && ++readings >= from ? { ...r, content: change(r.content) } : r,
      );
      return { ...result, rows } as typeof result;
    },
  } as Db;
}

describe('the statement stage reading an upload from its pieces', () => {
  let db: Db;
  const text = fileText();
  let expected: Awaited<ReturnType<typeof reconSnapshot>>;

  beforeAll(async () => {
    db = await testDb();
    await seed();
    const whole = await uploadStatement(db, text); // the lob alone: the text read whole
    await reconcile(100000);
    expect(await statementRow(db, whole)).toMatchObject({ status: 'PROCESSED' });
    expected = await reconSnapshot(db, whole);
    expect(expected.debits.length).toBeGreaterThan(20);
    expect(expected.reversals.length).toBeGreaterThan(0);
    expect(expected.errors.length).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(seed);

  async function reconcile(chunk: number, wrap: (db: Db) => Db = (d) => d) {
    const ctx = workerContext(db, { STATEMENT_CHUNK_ENTRIES: String(chunk) });
    const workers = startWorkers(
      { ...ctx, db: wrap(db) },
      { poll: false, stages: ['statement'], connectors: connectorsOf(new FakeBank()) },
    );
    try {
      await workers.runOnce();
    } finally {
      await workers.stop();
    }
  }

  const piecesLeft = async (id: string) =>
    (
      await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM account_statement_chunk WHERE statement_id = $1',
        [id],
      )
    ).rows[0]!.n;

  it('gives the result of the whole text whatever the cut, chunk size and order of writing', async () => {
    const reversed = (n: number) => Array.from({ length: n }, (_, i) => n - 1 - i);
    const cases: Array<[string, number[], number, ((n: number) => number[])?]> = [
      ['one piece', [], 100000],
      ['pieces of 997 characters', every(text, 997), 3],
      ['pieces of 100, written last first', every(text, 100), 7, reversed],
      ['pieces of 7', every(text, 7), 100000],
      [
        'a cut inside each of the first :61: and :86: tags',
        [text.indexOf(':61:') + 2, text.indexOf(':86:') + 1],
        5,
      ],
    ];
    for (const [name, cuts, chunk, order] of cases) {
      await seed();
      const id = await uploadPieces(db, text, cuts, order);
      await reconcile(chunk);
      expect(await statementRow(db, id), name).toMatchObject({ status: 'PROCESSED', duplicate_of: null });
      expect(await reconSnapshot(db, id), name).toEqual(expected);
      expect(await piecesLeft(id), name).toBe(0);
    }
  });

  it('reads a character of two, three or four bytes cut off its neighbours by a piece boundary', async () => {
    for (const ch of ['ë', '€', '😀']) {
      const p = text.indexOf(ch);
      for (const cuts of [[p], [p + ch.length], [p, p + ch.length]]) {
        await seed();
        const id = await uploadPieces(db, text, cuts);
        await reconcile(4);
        expect(await reconSnapshot(db, id), `${ch} ${cuts}`).toEqual(expected);
      }
    }
    expect(
      expected.debits.map((d) => (d as { beneficiary_name_from_bank: string }).beneficiary_name_from_bank),
    ).toContain('Ana 😀');
  });

  it('resumes from its pieces after a lost lease between chunks without counting a chunk twice', async () => {
    const id = await uploadPieces(db, text, every(text, 300));
    await reconcile(4, (d) => losingLeaseAt(d, 3));
    const { rows } = await db.query<{ cursor: number; status: string }>(
      `SELECT reconcile_cursor AS cursor, statement_process_status AS status FROM account_statement
        WHERE statement_id = $1`,
      [id],
    );
    expect(rows[0]).toMatchObject({ cursor: 8, status: 'PENDING' });
    expect(await piecesLeft(id)).toBeGreaterThan(1); // kept until the statement is done
    await db.query(
      `UPDATE account_statement SET lease_expires_at = now() - interval '1 second' WHERE statement_id = $1`,
      [id],
    );
    await reconcile(4);
    expect(await statementRow(db, id)).toMatchObject({ status: 'PROCESSED' });
    expect(await reconSnapshot(db, id)).toEqual(expected);
    expect(await piecesLeft(id)).toBe(0);
  });

  it('refuses an upload whose pieces do not make the uploaded file, counting nothing', async () => {
    for (const gone of [0, 3, 'last'] as const) {
      await seed();
      const cuts = every(text, 400);
      const id = await uploadPieces(db, text, cuts);
      await db.query('DELETE FROM account_statement_chunk WHERE statement_id = $1 AND seq = $2', [
        id,
        gone === 'last' ? cuts.length : gone,
      ]);
      await reconcile(4);
      const row = await statementRow(db, id);
      expect(row, String(gone)).toMatchObject({ status: 'ERROR', code: 'STATEMENT_TEXT_MISSING' });
      expect(row.message).toMatch(/piece is missing or changed/);
      const snap = await reconSnapshot(db, id);
      expect(snap.debits.length + snap.reversals.length + snap.errors.length, String(gone)).toBe(0);
    }
  });

  it('stops with a permanent error when a piece reads differently the second time, before using it', async () => {
    const cuts = every(text, 1000);
    const changedPiece = 1;
    const id = await uploadPieces(db, text, cuts);
    const piece = text.slice(cuts[changedPiece - 1], cuts[changedPiece]);
    const ref = /:61:\d+D10,00NTRF(k\d+)\/\//.exec(piece)![1]!;
    // the first reading (the check) sees the upload; the next ones see the disbursement reference changed
    await reconcile(3, (d) =>
      changingPiece(d, changedPiece, 2, (s) => s.replaceAll(`NTRF${ref}//`, 'NTRFk99//')),
    );
    const row = await statementRow(db, id);
    expect(row).toMatchObject({ status: 'ERROR', code: 'STATEMENT_PARSE_ERROR' });
    expect(row.message).toMatch(/changed between two readings \(at piece 2\)/);
    const snap = await reconSnapshot(db, id);
    const ids = [...snap.debits, ...snap.errors].map(
      (r) => (r as { disbursement_id: string }).disbursement_id,
    );
    expect(ids).not.toContain('k99');
    expect(ids.length).toBeGreaterThan(0); // the chunks before the change were applied, and stay counted once
  });

  /** k1..k30 shipped (k5 cancelled before), k31..k40 in a batch the bank has not acknowledged. */
  async function seed() {
    await resetBridge(db);
    await seedProgram(db, { resolution: false });
    const ks = disbursements('k', 40);
    await seedEnvelope(db, { id: 'E', batches: [ks.slice(0, 30), ks.slice(30)] });
    await cancelAndAmend(db, 'E', 'k5');
    await shipBatches(db, ['E-B1']);
  }
});
