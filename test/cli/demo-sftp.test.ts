// `demo --bank-channel sftp`: the whole cycle through the example bank's SFTP face. Pending: it needs the
// bridge's builtin:iso20022-sftp connector and pain.002 stage (issue 12, items 1–3) and the --bank-channel and
// --sftp-port wiring in demo/start/bank, none of which has landed yet.
import { describe, it } from 'vitest';

describe('demo --bank-channel sftp', () => {
  it.todo(
    'reconciles every disbursement on the SFTP channel, rejected ones accounted for (PGlite and PostgreSQL)',
  );
  it.todo('reports the bank-rejected disbursements with their reason codes in the summary');
});
