// The envelope page shows what the wallet providers' ledgers contradict (issue 15, part 3), by reason: errors
// naming the envelope's disbursements, and those on its program's funding account naming none of ours (a
// forged debit). Another envelope's errors stay off the page, and every value is escaped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPayoutChannel } from '../../src/payouts/channels.js';
import { type TestApp, testApp } from '../support/app.js';
import { seedEnvelope } from './seed.js';

const DAY = '00000000-0000-4000-8000-00000000d001';

function text(body: string) {
  return body
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');
}

describe('dashboard: wallet ledger errors on the envelope page', () => {
  let t: TestApp;
  let cookie: string;
  beforeAll(async () => {
    t = await testApp();
    const db = t.ctx.db;
    const a = await seedEnvelope(db, 'ENV-L', 4);
    const other = await seedEnvelope(db, 'ENV-O', 2);
    await setPayoutChannel(db, {
      program: a.program,
      providerCode: 'MPESA',
      debitPartyAccount: 'accountid@2999',
      currency: 'USD',
    });
    await db.query(
      `INSERT INTO wallet_ledger_day (ledger_day_id, provider_code, debit_party_account, ledger_date, window_start,
                                      window_end)
       VALUES ($1, 'MPESA', 'accountid@2999', '2026-03-01', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z')`,
      [DAY],
    );
    const [d1, d2] = Object.values(a.ids).flat();
    await db.query(
      `INSERT INTO wallet_ledger_error (ledger_day_id, provider_code, kind, error_reason, disbursement_id,
                                        transaction_reference, amount, currency, resolved_at)
       VALUES ($1, 'MPESA', 'LEDGER_DEBIT', 'AMOUNT_MISMATCH', $2, 'T-1', 10.24, 'USD', NULL),
              ($1, 'MPESA', 'LEDGER_DEBIT', 'AMOUNT_MISMATCH', $3, 'T-2', 10.26, 'USD', NULL),
              ($1, 'MPESA', 'COMPLETION', 'MISSING_LEDGER_DEBIT', $2, NULL, NULL, NULL, now()),
              ($1, 'MPESA', 'LEDGER_DEBIT', 'UNKNOWN_DISBURSEMENT', 'NO-SUCH-ID', 'T-3', 99, 'USD', NULL),
              ($1, 'MPESA', 'LEDGER_DEBIT', '<script>x</script>', 'NO-SUCH-ID-2', 'T-4', 1, 'USD', NULL),
              ($1, 'MPESA', 'LEDGER_DEBIT', 'OTHER_CHANNEL', $4, 'T-5', 10.25, 'USD', NULL)`,
      [DAY, d1, d2, Object.values(other.ids).flat()[0]],
    );
    cookie = `g2p_token=${await t.token('admin')}`;
  });
  afterAll(async () => t?.close());

  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { cookie, accept: 'text/html' } });

  it('lists them by reason and scope, open ones counted, amounts exact, markup escaped', async () => {
    const res = await get('/dashboard/envelopes/ENV-L');
    expect(res.statusCode).toBe(200);
    const table = /<table data-table="ledger-errors">[\s\S]*?<\/table>/.exec(res.body)?.[0] ?? '';
    expect(text(table)).toContain("this envelope's disbursements MPESA AMOUNT_MISMATCH 2 2 20.50 USD");
    expect(text(table)).toContain("this envelope's disbursements MPESA MISSING_LEDGER_DEBIT 1 0");
    expect(text(table)).toContain(
      "the program's funding account, no disbursement of ours MPESA UNKNOWN_DISBURSEMENT 1 1 99.00 USD",
    );
    // Another envelope's disbursement is not this envelope's error.
    expect(table).not.toContain('OTHER_CHANNEL');
    expect(res.body).not.toContain('<script>x</script>');
    expect(table).toContain('&lt;script&gt;x&lt;/script&gt;');
  });

  it('shows another envelope only its own, and not the forged debits of a program it is not in', async () => {
    const res = await get('/dashboard/envelopes/ENV-O');
    expect(res.statusCode).toBe(200);
    const table = /<table data-table="ledger-errors">[\s\S]*?<\/table>/.exec(res.body)?.[0] ?? '';
    expect(text(table)).toContain("this envelope's disbursements MPESA OTHER_CHANNEL 1 1 10.25 USD");
    expect(table).not.toContain('AMOUNT_MISMATCH');
    expect(table).not.toContain('UNKNOWN_DISBURSEMENT');
  });
});
