import { openDatabase } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { ensureBridgeKeys, publicJwks } from '../../g2p/keys.js';
import { parseCommandArgs } from '../args.js';

const HELP = `Usage: g2p-bridge keys [--rotate]

Creates the bridge's key pairs, once: Ed25519 to sign its answers and callbacks, RSA (RSA-OAEP-256) for
senders to encrypt messages to it. They are kept in DATA_DIR/g2p-keys.json (embedded database) or in the
database (PostgreSQL), and printed as a JSON Web Key Set (public halves only), which the bridge also serves at
/.well-known/jwks.json. Restart the bridge after creating them.

  --rotate   replace existing keys (senders must fetch the new JWKS)`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { rotate: { type: 'boolean' } }, HELP, true);
  if (!parsed) return 0;
  const config = loadConfig();
  const db = config.DATABASE_URL ? await openDatabase(config) : undefined;
  try {
    const { keys, created } = await ensureBridgeKeys(config, db, { rotate: parsed.values.rotate === true });
    process.stderr.write(
      created ? 'Created the bridge keys.\n' : 'The bridge keys exist already (--rotate replaces them).\n',
    );
    process.stdout.write(`${JSON.stringify(publicJwks(keys), null, 2)}\n`);
    return 0;
  } finally {
    await db?.close();
  }
}
