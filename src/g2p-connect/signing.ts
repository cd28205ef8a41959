// The bridge's signature on what it sends through the G2P Connect API: its answers (signed in the routes'
// onSend hook, src/g2p/guard.ts signPayload) and its callbacks (signed by the `callbacks` stage when each
// delivery attempt leaves, so a retry hours later still carries a signature inside its created/expires window;
// the body, and so header.message_id, stays the same). Without bridge keys (`g2p-bridge keys` not run yet) they
// go out unsigned (`signature: null`), as the 1.0.2 answers do.
import { type SigningKey, signMessage } from '../g2p/signing.js';

/** The `signature` of an outgoing body ({header, message}), or null when the bridge has no signing key. */
export function signOutgoing(
  body: { header: unknown; message: unknown },
  key: SigningKey | null | undefined,
  now?: Date,
): string | null {
  return key ? signMessage({ header: body.header, message: body.message }, key, now) : null;
}
