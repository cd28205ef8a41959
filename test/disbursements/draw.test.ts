// Fresh disbursement ids come from one statement that draws sequence values and returns them as runs: one run
// when nothing else drew meanwhile (found from the bounds alone), several when values are missing in between.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { drawDisbursementIds, renderDisbursementId } from '../../src/disbursements/ids.js';
import { testDb } from '../support/db.js';

const valuesOf = (ids: string[]) => ids.map((id) => Number.parseInt(id.slice(1), 36));

describe('drawing fresh disbursement ids', () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
  });
  afterAll(() => db?.close());

  it('draws as many consecutive values as asked, none for zero', async () => {
    expect(await drawDisbursementIds(db, 0)).toEqual([]);
    const ids = await drawDisbursementIds(db, 2500);
    const values = valuesOf(ids);
    expect(values).toHaveLength(2500);
    expect(values.every((v, i) => i === 0 || v === values[i - 1]! + 1)).toBe(true);
    expect(ids[0]).toBe(renderDisbursementId(values[0]!));
    // The next draw starts after this one: no value is handed out twice.
    const next = valuesOf(await drawDisbursementIds(db, 3));
    expect(next[0]).toBeGreaterThan(values.at(-1)!);
  });

  it('returns every value of a draw with gaps, ascending (as under concurrent draws)', async () => {
    // A step of 3 leaves two values out after each: the values are no run, and the runs are looked for.
    await db.query('ALTER SEQUENCE disbursement_id_seq INCREMENT BY 3 CACHE 1');
    try {
      const values = valuesOf(await drawDisbursementIds(db, 7));
      expect(values).toHaveLength(7);
      for (let i = 1; i < values.length; i++) expect(values[i]).toBe(values[0]! + 3 * i);
      // Two runs back to back: a gap of one value in the middle.
      await db.query('ALTER SEQUENCE disbursement_id_seq INCREMENT BY 1');
      const ids = await db.transaction(async (tx) => {
        const first = await drawDisbursementIds(tx, 4);
        await tx.query("SELECT nextval('disbursement_id_seq')");
        return [...first, ...(await drawDisbursementIds(tx, 4))];
      });
      const all = valuesOf(ids);
      expect(all.slice(4)[0]).toBe(all[3]! + 2);
    } finally {
      await db.query('ALTER SEQUENCE disbursement_id_seq INCREMENT BY 1 CACHE 1000');
    }
  });
});
