// The seam to message signatures (issue 14, item 3). Until the signing module lands (src/g2p/signing.ts),
// answers and callbacks go out with `signature: null` and incoming signatures are not checked here.

/** The `signature` of an outgoing body ({header, message}); null while no signing key is wired in. */
export async function signOutgoing(_body: { header: unknown; message: unknown }): Promise<string | null> {
  return null;
}
