// `serve`: the bridge's HTTP face alone (PBMS API, dashboard, /metrics, health), for deployments that run
// the background workers in their own processes (`g2p-bridge worker`) against a shared PostgreSQL.
import { runUntilSignal } from './start.js';

const HELP = `Usage: g2p-bridge serve [--port N]

Serves the PBMS API, the dashboard (/dashboard), /metrics, /health and /ready on PORT (default 8000). No
background workers and no simulators run here: give it a PostgreSQL DATABASE_URL shared with
'g2p-bridge worker' processes, or use 'g2p-bridge start' for everything in one process.
Stop it with Ctrl-C (SIGINT) or SIGTERM. The banner goes to standard output, the JSON logs to standard error.

  --port N   listen on this port instead of PORT (0: any free port)

Settings: docs/configuration.md.`;

export async function run(argv: string[]): Promise<number> {
  return runUntilSignal(argv, 'api', HELP);
}
