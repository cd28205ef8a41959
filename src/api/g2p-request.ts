// A G2P Connect request as a PBMS sends it, for this repository's own callers (the demo and the tests).
import { randomUUID } from 'node:crypto';

/**
 * A fresh message id and timestamp, no signature; total_count is the number of items (1 for a single
 * message) unless `header` says otherwise. `header` adds or replaces header fields. `now`: the caller's clock
 * (message_ts); the system clock for callers that keep none (the demo).
 */
export function g2pRequest(
  action: string,
  message: unknown,
  senderId: string,
  header: Record<string, unknown> = {},
  now: () => Date = () => new Date(),
) {
  return {
    signature: null,
    header: {
      version: '1.0.0',
      message_id: randomUUID(),
      message_ts: now().toISOString(),
      action,
      sender_id: senderId,
      receiver_id: 'g2p-bridge',
      total_count: Array.isArray(message) ? message.length : 1,
      is_msg_encrypted: false,
      ...header,
    },
    message,
  };
}
