// Guards of the idempotent PBMS call (issue 13): a stored answer belongs to the (sender_id, message_id) that
// made it. Two senders may pick the same message id; a replay must find its own sender's request, never the
// other's (a lookup by message_id alone hands one sender the other's answer, or refuses its honest retry).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { DUPLICATE_MESSAGE_ID, idempotent } from '../../src/g2p/idempotency.js';
import type { G2pResponse, RequestHeader } from '../../src/g2p/message.js';
import { Rejection } from '../../src/g2p/message.js';
import { testDb } from '../support/db.js';

const ACTION = 'create_disbursement_envelope';

const header = (sender: string, messageId: string): RequestHeader => ({
  message_id: messageId,
  message_ts: '2026-03-01T10:00:00Z',
  action: ACTION,
  sender_id: sender,
  total_count: 1,
});

/** An answer that says who it was made for. */
const answerOf = (
  sender: string,
  messageId: string,
  made: number,
): G2pResponse<{ for: string; made: number }> => ({
  signature: null,
  header: {
    version: '1.0.0',
    message_id: messageId,
    message_ts: '2026-03-01T10:00:01Z',
    action: ACTION,
    status: 'succ',
    status_reason_code: null,
    status_reason_message: null,
    total_count: 1,
    completed_count: 1,
    sender_id: sender,
    receiver_id: null,
    is_msg_encrypted: false,
    meta: {},
  },
  message: { for: sender, made },
});

describe('idempotent PBMS calls are keyed by sender and message id', () => {
  let db: Db;
  let effects: string[];

  beforeAll(async () => {
    db = await testDb();
  });
  beforeEach(async () => {
    await db.query('TRUNCATE api_request');
    effects = [];
  });
  afterAll(async () => {
    await db.close();
  });

  /** One call as a route makes it: the effect records that it ran and answers for its sender. */
  const call = (sender: string, messageId: string, message: unknown) =>
    idempotent(db, header(sender, messageId), ACTION, message, async () => {
      effects.push(sender);
      return answerOf(sender, messageId, effects.length);
    });

  const outcome = (p: Promise<G2pResponse<unknown>>) =>
    p.then(
      (r) => r.message,
      (e: unknown) => (e instanceof Rejection ? e.code : Promise.reject(e)),
    );

  it('replays each sender its own answer when two senders sent different requests under one id', async () => {
    expect(await outcome(call('PBMS-A', 'M-1', { envelope: 'A-1' }))).toEqual({ for: 'PBMS-A', made: 1 });
    expect(await outcome(call('PBMS-B', 'M-1', { envelope: 'B-1' }))).toEqual({ for: 'PBMS-B', made: 2 });
    // Both retry: each gets its first answer back, and nothing runs again.
    expect(await outcome(call('PBMS-A', 'M-1', { envelope: 'A-1' }))).toEqual({ for: 'PBMS-A', made: 1 });
    expect(await outcome(call('PBMS-B', 'M-1', { envelope: 'B-1' }))).toEqual({ for: 'PBMS-B', made: 2 });
    expect(effects).toEqual(['PBMS-A', 'PBMS-B']);
  });

  it('replays each sender its own answer when two senders sent the very same request under one id', async () => {
    const same = { envelope: 'SHARED' };
    expect(await outcome(call('PBMS-A', 'M-2', same))).toEqual({ for: 'PBMS-A', made: 1 });
    expect(await outcome(call('PBMS-B', 'M-2', same))).toEqual({ for: 'PBMS-B', made: 2 });
    expect(await outcome(call('PBMS-B', 'M-2', same))).toEqual({ for: 'PBMS-B', made: 2 });
    expect(await outcome(call('PBMS-A', 'M-2', same))).toEqual({ for: 'PBMS-A', made: 1 });
    expect(effects).toEqual(['PBMS-A', 'PBMS-B']);
  });

  it("refuses a sender's reuse of its own id for another request, whatever other senders did", async () => {
    await call('PBMS-A', 'M-3', { envelope: 'A-1' });
    await call('PBMS-B', 'M-3', { envelope: 'A-2' });
    expect(await outcome(call('PBMS-A', 'M-3', { envelope: 'A-2' }))).toBe(DUPLICATE_MESSAGE_ID);
    expect(await outcome(call('PBMS-B', 'M-3', { envelope: 'A-1' }))).toBe(DUPLICATE_MESSAGE_ID);
    expect(effects).toEqual(['PBMS-A', 'PBMS-B']);
    const { rows } = await db.query<{ sender_id: string }>(
      `SELECT sender_id FROM api_request WHERE message_id = 'M-3' ORDER BY 1`,
    );
    expect(rows).toEqual([{ sender_id: 'PBMS-A' }, { sender_id: 'PBMS-B' }]);
  });
});
