// `return-reason list|set|delete`: the mapping of camt return codes (AC04 ...) to reversal reasons
// (ACCOUNT_CLOSED ...) in the bridge's database, as the admin API /admin/return_reasons changes it.
import { userInfo } from 'node:os';
import { openDatabase } from '../../app.js';
import type { Actor } from '../../audit/index.js';
import { loadConfig } from '../../config/index.js';
import {
  deleteReturnReason,
  listReturnReasons,
  ReturnReasonError,
  setReturnReason,
} from '../../statements/return-reasons.js';
import { parseCommandArgs } from '../args.js';

const HELP = `Usage: g2p-bridge return-reason <list|set|delete> [options]

The reversal reason a camt return's ISO reason code (RtrInf/Rsn/Cd) becomes, in the bridge's database
(DATABASE_URL, or the embedded database in DATA_DIR). A code without a mapping passes through as it is.

  return-reason list [--json]
  return-reason set CODE REASON [--description TEXT]     e.g. set AC04 ACCOUNT_CLOSED
  return-reason delete CODE`;

const OPTIONS = { description: { type: 'string' }, json: { type: 'boolean' } } as const;

function cliActor(): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return { subject: `cli:${user}`, roles: ['admin'], senderId: null, requestId: null, messageId: null };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, OPTIONS, HELP, true);
  if (!parsed) return 0;
  const [sub, code, reason] = parsed.positionals;
  const v = parsed.values as { description?: string; json?: boolean };
  if (!(sub === 'list' || (sub === 'set' && code && reason) || (sub === 'delete' && code))) {
    process.stderr.write(`${HELP}\n`);
    return 2;
  }
  const db = await openDatabase(loadConfig());
  try {
    if (sub === 'list') {
      const rows = await listReturnReasons(db);
      process.stdout.write(
        v.json
          ? `${JSON.stringify(rows, null, 2)}\n`
          : `${rows.map((r) => `${r.return_code.padEnd(6)} ${r.reversal_reason}`).join('\n')}\n`,
      );
    } else if (sub === 'set') {
      const row = await setReturnReason(
        db,
        code!,
        { reversal_reason: reason!, description: v.description ?? null },
        cliActor(),
      );
      process.stdout.write(`${JSON.stringify(row, null, 2)}\n`);
    } else {
      await deleteReturnReason(db, code!, cliActor());
      process.stdout.write(`deleted ${code!.toUpperCase()}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof ReturnReasonError) {
      process.stderr.write(`${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await db.close();
  }
}
