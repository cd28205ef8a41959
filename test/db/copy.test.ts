// copyFrom, the bulk load of the PostgreSQL adapter (COPY FROM STDIN): the text format's escapes round-trip
// every awkward value, a bad row anywhere refuses the whole COPY, it belongs to the transaction it runs in,
// and errors carry no row values. PGlite's adapter has none (src/db/db.ts says why): callers insert there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyField, type Db, type Queryable } from '../../src/db/index.js';
import { onPostgres, testDb } from '../support/db.js';

const line = (...fields: (string | null)[]) => `${fields.map(copyField).join('\t')}\n`;
const copyRows = (q: Queryable, table: string, columns: string[], rows: string[]) =>
  q.copyFrom!(table, columns, rows);

it('is offered by the PostgreSQL adapter only', async () => {
  const db = await testDb();
  try {
    expect(typeof db.copyFrom === 'function').toBe(onPostgres());
    await db.transaction(async (tx) => expect(typeof tx.copyFrom === 'function').toBe(onPostgres()));
  } finally {
    await db.close();
  }
});

describe.skipIf(!onPostgres())('copyFrom', () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
    await db.exec(`CREATE TABLE copy_probe (k text PRIMARY KEY, v text, n numeric CHECK (n > 0));
      CREATE TABLE copy_probe_log (rows int);
      CREATE FUNCTION copy_probe_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO copy_probe_log SELECT count(*) FROM new_rows; RETURN NULL; END $$;
      CREATE TRIGGER copy_probe_counted AFTER INSERT ON copy_probe REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION copy_probe_counted();`);
  });
  afterAll(() => db?.close());

  it('stores awkward text exactly, nulls as null and decimals exactly', async () => {
    const values = [
      'tab\there',
      'new\nline',
      'cr\rhere',
      'back\\slash',
      '\\N',
      '\\.',
      'ends with \\',
      'ünïcödé 💸 ',
      '',
      ' ',
      '"quoted", ,comma',
      '\u2028\u2029',
    ];
    const pieces = [
      values
        .slice(0, 6)
        .map((v, i) => line(`a${i}`, v, '0.000000000000000000000000001'))
        .join(''),
      values
        .slice(6)
        .map((v, i) => line(`b${i}`, v, '12345678901234567890123456789.99'))
        .join(''),
      '',
      line('c', null, '1'),
    ];
    const n = await db.transaction((tx) => copyRows(tx, 'copy_probe', ['k', 'v', 'n'], pieces));
    expect(n).toBe(values.length + 1);
    const { rows } = await db.query<{ k: string; v: string | null; n: string }>(
      'SELECT k, v, n::text AS n FROM copy_probe ORDER BY k',
    );
    expect(rows.map((r) => r.v)).toEqual([...values, null]);
    expect(rows[0]!.n).toBe('0.000000000000000000000000001');
    expect(rows[6]!.n).toBe('12345678901234567890123456789.99');
    // One statement: the statement trigger saw every row once.
    const log = await db.query<{ rows: number }>('SELECT rows FROM copy_probe_log');
    expect(log.rows).toEqual([{ rows: values.length + 1 }]);
  });

  it('refuses the whole COPY for one bad row, leaving nothing, and names no value', async () => {
    await db.exec('TRUNCATE copy_probe, copy_probe_log');
    const good = Array.from({ length: 3000 }, (_, i) => line(`k${i}`, `secret-${i}`, '5'));
    for (const [bad, code] of [
      [line('k0', 'secret-dup', '5'), '23505'], // a duplicate key after 3,000 good rows
      [line('zz', 'secret-neg', '-1'), '23514'], // a check
      [line('zz', 'secret-num', 'x1'), '22P02'], // not a number
      ['zz\tsecret-short\n', '22P04'], // a missing field
    ] as const) {
      const error = await db
        .transaction((tx) => copyRows(tx, 'copy_probe', ['k', 'v', 'n'], [...good, bad]))
        .then(
          () => null,
          (e: unknown) => e as Record<string, unknown>,
        );
      expect(error?.code).toBe(code);
      expect(JSON.stringify(error)).not.toContain('secret');
      expect(String(error?.message)).not.toContain('secret');
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM copy_probe');
      expect(rows[0]!.n).toBe(0);
    }
    // The connection is usable after a failed COPY (PostgreSQL: back in the pool).
    const { rows } = await db.query<{ one: number }>('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('abandons the whole COPY when its rows throw, and says when every piece is sent', async () => {
    await db.exec('TRUNCATE copy_probe, copy_probe_log');
    const asked: number[] = [];
    let sentAfter = -1;
    // Three pieces of 2,000 rows; the rows stop with the caller's own error before the fourth.
    function* rows(fail: boolean): Generator<string> {
      for (let p = 0; p < 4; p++) {
        asked.push(p);
        if (fail && p === 3) throw new Error('item 6001 is bad');
        yield Array.from({ length: 2000 }, (_, i) => line(`k${p}-${i}`, 'v', '1')).join('');
      }
    }
    const outcome = await db.transaction(async (tx) => {
      await tx.query('SAVEPOINT s');
      const error = await tx.copyFrom!('copy_probe', ['k', 'v', 'n'], rows(true), () => {
        sentAfter = asked.length;
      }).then(
        () => null,
        (e: unknown) => e,
      );
      // The caller's error as thrown, the COPY gone: back to the savepoint, the transaction goes on.
      await tx.query('ROLLBACK TO SAVEPOINT s');
      await tx.copyFrom!('copy_probe', ['k', 'v', 'n'], [line('after', 'v', '1')]);
      return error;
    });
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toBe('item 6001 is bad');
    expect(sentAfter).toBe(-1);
    const { rows: left } = await db.query<{ k: string }>('SELECT k FROM copy_probe');
    expect(left).toEqual([{ k: 'after' }]);
    // Outside a transaction too: nothing stays, and the pooled connection works afterwards.
    await expect(db.copyFrom!('copy_probe', ['k', 'v', 'n'], rows(true))).rejects.toThrow('item 6001 is bad');
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM copy_probe')).rows[0]!.n).toBe(1);
    // `sent` comes once, after the last piece was asked for and before the COPY's end.
    asked.length = 0;
    let ended = false;
    const copied = db.copyFrom!('copy_probe', ['k', 'v', 'n'], rows(false), () => {
      sentAfter = asked.length;
      expect(ended).toBe(false);
    }).then((n) => {
      ended = true;
      return n;
    });
    expect(await copied).toBe(8000);
    expect(sentAfter).toBe(4);
  });

  it('rolls back with its transaction and to a savepoint, and works outside one', async () => {
    await db.exec('TRUNCATE copy_probe, copy_probe_log');
    await expect(
      db.transaction(async (tx) => {
        await copyRows(tx, 'copy_probe', ['k', 'v', 'n'], [line('t1', 'x', '1')]);
        throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    await db.transaction(async (tx) => {
      await copyRows(tx, 'copy_probe', ['k', 'v', 'n'], [line('kept', 'x', '1')]);
      await tx.query('SAVEPOINT s');
      const failed = await copyRows(
        tx,
        'copy_probe',
        ['k', 'v', 'n'],
        [line('new', 'x', '1'), line('kept', 'y', '1')],
      )
        .then(() => null)
        .catch((e: { code?: string }) => e.code);
      expect(failed).toBe('23505');
      await tx.query('ROLLBACK TO SAVEPOINT s');
      await copyRows(tx, 'copy_probe', ['k', 'v', 'n'], [line('after', 'x', '1')]);
    });
    expect(await copyRows(db, 'copy_probe', ['k', 'v', 'n'], [line('alone', 'x', '1')])).toBe(1);
    const { rows } = await db.query<{ k: string }>('SELECT k FROM copy_probe ORDER BY k');
    expect(rows.map((r) => r.k)).toEqual(['after', 'alone', 'kept']);
  });

  it('takes plain names only', async () => {
    await expect(db.transaction((tx) => copyRows(tx, 'copy_probe; DROP TABLE x', ['k'], []))).rejects.toThrow(
      'not a plain SQL name',
    );
  });
});
