// PGlite runs statements on the main thread and resolves them as microtasks: a long chain of awaited statements
// (the statement stage's chunk) must still let the event loop run, or every HTTP request waits for the whole
// chain. A timer set before the chain stands for a socket's callback. On PostgreSQL the driver's I/O yields anyway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../src/db/index.js';
import { testDb } from '../support/db.js';

/** Enough statements that the chain lasts well beyond one turn's interval on any machine. */
const STATEMENTS = 300;
const WORK = 'SELECT count(*)::int AS n FROM generate_series(1, 20000)';

/** How many steps of a chain of `steps` had finished when a timer set at its start fired. */
async function doneWhenTimerFired(steps: number, step: () => Promise<void>): Promise<number> {
  let done = 0;
  let seen = -1;
  setTimeout(() => {
    seen = done;
  }, 0);
  for (let i = 0; i < steps; i++) {
    await step();
    done++;
  }
  // The timer has fired by now in any case; what matters is when.
  await new Promise((resolve) => setTimeout(resolve, 5));
  return seen;
}

/** One statement of work, its answer checked. */
async function work(q: Queryable): Promise<void> {
  const { rows } = await q.query<{ n: number }>(WORK);
  expect(rows[0]!.n).toBe(20000);
}

describe('a chain of statements lets the event loop turn', () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
  });
  afterAll(() => db.close());

  it('outside a transaction', async () => {
    expect(await doneWhenTimerFired(STATEMENTS, () => work(db))).toBeLessThan(STATEMENTS);
  });

  it('inside a transaction', async () => {
    const seen = await db.transaction((tx) => doneWhenTimerFired(STATEMENTS, () => work(tx)));
    expect(seen).toBeLessThan(STATEMENTS);
  });

  it('between transactions', async () => {
    const seen = await doneWhenTimerFired(100, () =>
      db.transaction(async (tx) => {
        await work(tx);
        await work(tx);
      }),
    );
    expect(seen).toBeLessThan(100);
  });
});
