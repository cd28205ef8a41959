import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { purgeStoredAnswers } from '../../src/g2p/idempotency.js';
import { testDb } from '../support/db.js';

describe('retention of stored idempotent answers', () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
  });
  afterAll(async () => db.close());

  it('forgets answers older than the retention and keeps the rest', async () => {
    await db.query(
      `INSERT INTO api_request (sender_id, message_id, action, request_sha256, response, created_at)
       VALUES ('mis', 'old', 'create_disbursement_envelope', 'x', '{}', now() - interval '91 days'),
              ('mis', 'recent', 'create_disbursement_envelope', 'y', '{}', now() - interval '89 days')`,
    );
    expect(await purgeStoredAnswers(db, 0)).toBe(0);
    expect(await purgeStoredAnswers(db, 90)).toBe(1);
    const { rows } = await db.query<{ message_id: string }>('SELECT message_id FROM api_request');
    expect(rows.map((r) => r.message_id)).toEqual(['recent']);
  });
});
