// The five stages end to end inside one process, with a fake bank and a fake mapper.
import { describe, expect, it } from 'vitest';
import {
  disbursements,
  type EntrySeed,
  pipelineSuite,
  seedEnvelope,
  seedProgram,
  statementText,
  uploadStatement,
} from './fixtures.js';
import {
  cancelAndAmend,
  envelopeStatus,
  errorRecons,
  lifecycle,
  statementRow,
  statusCounts,
} from './helpers.js';

describe('pipeline stages with fakes', () => {
  const s = pipelineSuite();
  const start = (env: Record<string, string> = {}) => s.start({ env });

  it('resolves, checks and blocks funds, ships each batch once and reconciles the statement', async () => {
    await seedProgram(s.db);
    await seedEnvelope(s.db, {
      id: 'E1',
      batches: [disbursements('a', 5, '12.50'), disbursements('b', 5, '7.25')],
    });
    for (const id of ['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'b3', 'b4'])
      s.mapper.known.set(`BEN-${id}`, `ACC-${id}`);
    await cancelAndAmend(s.db, 'E1', 'a5'); // b5 stays unknown to the mapper: unresolved
    start();
    await s.workers.runOnce();

    expect(await statusCounts(s.db, 'E1')).toEqual({ shipped: 8, cancelled: 1, unresolved: 1 });
    const unresolved = (await lifecycle(s.db, 'E1')).find((r) => r.status === 'unresolved')!;
    expect(unresolved).toEqual({ id: 'b5', status: 'unresolved', reason: 'succ.id.not_found' });
    const env = await envelopeStatus(s.db, 'E1');
    expect(env).toMatchObject({
      funds_available_with_bank: 'FUNDS_AVAILABLE',
      funds_blocked_with_bank: 'FUNDS_BLOCK_SUCCESS',
      funds_blocked_reference_number: 'BLK-1',
      number_of_disbursements_shipped: 8,
    });
    expect(s.bank.calls.initiatePayment).toBe(2);
    const payments = s.bank.payments();
    expect(payments.map((p) => p.disbursementId).sort()).toEqual([
      'a1',
      'a2',
      'a3',
      'a4',
      'b1',
      'b2',
      'b3',
      'b4',
    ]);
    expect(payments.every((p) => p.fundsBlockedReferenceNumber === 'BLK-1')).toBe(true);
    expect(payments.find((p) => p.disbursementId === 'a1')).toMatchObject({
      paymentAmount: '12.50',
      remittingAccount: '1000200030',
      beneficiaryAccount: 'ACC-a1',
      beneficiaryAccountType: 'BANK_ACCOUNT',
      beneficiaryBankCode: 'OTHERBANK',
      benefitProgramMnemonic: 'CASH',
      cycleCodeMnemonic: 'MAR-2026',
    });
    expect(s.bank.blocks.get('E1')!.amount).toBe('86.25'); // 4 × 12.50 + 5 × 7.25 (a5 cancelled)

    // The bank reports every debit (in id order: the two batches may ship in either order); two come back reversed.
    const byId = [...payments].sort((x, y) => x.disbursementId.localeCompare(y.disbursementId));
    const entries: EntrySeed[] = byId.map((p) => ({
      mark: 'D',
      id: p.disbursementId,
      amount: p.paymentAmount,
    }));
    entries.push({ mark: 'C', id: 'TOPUP', amount: '100.00' });
    entries.push(
      { mark: 'RD', id: 'a2', amount: '12.50', reason: 'ACCOUNT_CLOSED' },
      { mark: 'RD', id: 'b3', amount: '7.25', reason: 'ACCOUNT_DORMANT' },
    );
    const text = statementText(entries);
    const st = await uploadStatement(s.db, text);
    await s.workers.runOnce();
    expect((await statementRow(s.db, st)).status).toBe('PROCESSED');
    const states = await lifecycle(s.db, 'E1');
    expect(states.filter((r) => r.status === 'reconciled').map((r) => r.id)).toEqual([
      'a1',
      'a3',
      'a4',
      'b1',
      'b2',
      'b4',
    ]);
    expect(states.filter((r) => r.status === 'reversed')).toEqual([
      { id: 'a2', status: 'reversed', reason: 'ACCOUNT_CLOSED' },
      { id: 'b3', status: 'reversed', reason: 'ACCOUNT_DORMANT' },
    ]);
    expect(await envelopeStatus(s.db, 'E1')).toMatchObject({
      number_of_disbursements_reconciled: 8,
      number_of_disbursements_reversed: 2,
    });
    expect(await errorRecons(s.db)).toEqual([]);
    const { rows } = await s.db.query<{ name: string; seq: number; rev_seq: number | null }>(
      `SELECT beneficiary_name_from_bank AS name, remittance_entry_sequence AS seq, reversal_entry_sequence AS rev_seq
         FROM disbursement_recon WHERE disbursement_id = 'a2'`,
    );
    expect(rows[0]).toEqual({ name: 'Name', seq: 2, rev_seq: 10 });

    // The same file again, and the same statement (account, :20:, :28C:) with other bytes: counted once.
    const again = await uploadStatement(s.db, text);
    const sameHeader = await uploadStatement(s.db, text.replace('ACCOUNT_CLOSED', 'ACCOUNT_CLOSED.'));
    await s.workers.runOnce();
    expect(await statementRow(s.db, again)).toMatchObject({ status: 'PROCESSED', duplicate_of: st });
    expect(await statementRow(s.db, sameHeader)).toMatchObject({ status: 'PROCESSED', duplicate_of: st });
    expect(await envelopeStatus(s.db, 'E1')).toMatchObject({
      number_of_disbursements_reconciled: 8,
      number_of_disbursements_reversed: 2,
    });
    expect(await errorRecons(s.db)).toEqual([]);
  });

  it('gives exactly the error recons for a duplicate debit, an unknown id and a reversal without a debit', async () => {
    await seedProgram(s.db, { resolution: false });
    await seedEnvelope(s.db, { id: 'E2', batches: [disbursements('x', 4)] });
    start();
    await s.workers.runOnce();
    expect(await statusCounts(s.db, 'E2')).toEqual({ shipped: 4 });
    // Without the mapper the beneficiary id is the account.
    expect(s.bank.payments().find((p) => p.disbursementId === 'x1')!.beneficiaryAccount).toBe('BEN-x1');

    const first = await uploadStatement(
      s.db,
      statementText(
        [
          { mark: 'D', id: 'x1' },
          { mark: 'D', id: 'x1' }, // second debit in the same statement
          { mark: 'D', id: 'NOSUCHID' },
          { mark: 'RD', id: 'x2', reason: 'ACCOUNT_CLOSED' }, // never debited
          { mark: 'D', id: 'x3' },
          { mark: 'RD', id: 'x3', reason: 'ACCOUNT_DECEASED' },
          { mark: 'RD', id: 'x3', reason: 'ACCOUNT_DECEASED' }, // reversed twice
        ],
        { reference: 'S1', number: '1' },
      ),
    );
    await s.workers.runOnce();
    expect(await errorRecons(s.db, first)).toEqual([
      { reason: 'DUPLICATE_DISBURSEMENT', id: 'x1', seq: 2 },
      { reason: 'INVALID_DISBURSEMENT_ID', id: 'NOSUCHID', seq: 3 },
      { reason: 'INVALID_REVERSAL', id: 'x2', seq: 4 },
      { reason: 'INVALID_REVERSAL', id: 'x3', seq: 7 },
    ]);
    // A later statement debits x1 again: already reconciled.
    const second = await uploadStatement(
      s.db,
      statementText(
        [
          { mark: 'D', id: 'x1' },
          { mark: 'D', id: 'x4' },
        ],
        { reference: 'S2', number: '2' },
      ),
    );
    await s.workers.runOnce();
    expect(await errorRecons(s.db, second)).toEqual([{ reason: 'DUPLICATE_DISBURSEMENT', id: 'x1', seq: 1 }]);
    expect(await statusCounts(s.db, 'E2')).toEqual({ reconciled: 2, reversed: 1, shipped: 1 });
    expect(await envelopeStatus(s.db, 'E2')).toMatchObject({
      number_of_disbursements_reconciled: 3,
      number_of_disbursements_reversed: 1,
    });
  });

  it('marks a statement for an unknown account or one that does not parse ERROR, keeping its text', async () => {
    await seedProgram(s.db, { account: 'GB0000001000200030' });
    start();
    const unknown = await uploadStatement(
      s.db,
      statementText([{ mark: 'D', id: 'q1' }], { account: '999999' }),
    );
    const garbage = await uploadStatement(s.db, 'this is not a statement\n');
    const ibanish = await uploadStatement(s.db, statementText([], { account: 'GB0000001000200030/USD' }));
    await s.workers.runOnce();
    const u = await statementRow(s.db, unknown);
    expect(u).toMatchObject({ status: 'ERROR', code: 'UNKNOWN_ACCOUNT', account: '999999' });
    expect(u.message).toContain('999999');
    expect(u.text).toContain(':25:999999');
    const g = await statementRow(s.db, garbage);
    expect(g).toMatchObject({
      status: 'ERROR',
      code: 'STATEMENT_PARSE_ERROR',
      text: 'this is not a statement\n',
    });
    expect(g.message).toMatch(/line \d+/);
    expect((await statementRow(s.db, ibanish)).status).toBe('PROCESSED');
    const { rows } = await s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM disbursement_error_recon`,
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('retries bank and mapper failures until they recover; a re-sent batch is paid once', async () => {
    await seedProgram(s.db);
    await seedEnvelope(s.db, { id: 'E3', batches: [disbursements('m', 3), disbursements('n', 3)] });
    for (const id of ['m1', 'm2', 'm3', 'n1', 'n2', 'n3']) s.mapper.known.set(`BEN-${id}`, `ACC-${id}`);
    s.mapper.downFor = 2;
    s.bank.failNext('checkFunds', 1);
    s.bank.failNext('blockFunds', 1);
    s.bank.failNext('initiatePayment', 1);
    // The bank accepts the first batch it sees but our side never hears back (connection lost after the ack).
    let dropped = false;
    const original = s.bank.initiatePayment.bind(s.bank);
    s.bank.initiatePayment = async (batchId, payments) => {
      const result = await original(batchId, payments);
      if (!dropped && result.status === 'SUCCESS') {
        dropped = true;
        return { status: 'FAILURE', errorCode: 'BANK_CONNECTION_ERROR' };
      }
      return result;
    };
    start({ RETRY_BACKOFF_BASE_SECONDS: '0' });
    await s.workers.runOnce();
    expect(await statusCounts(s.db, 'E3')).toEqual({ shipped: 6 });
    expect(s.mapper.calls).toBeGreaterThanOrEqual(4);
    expect(s.bank.calls.initiatePayment).toBe(4); // one 500, one lost ack re-sent, one clean
    expect(s.bank.payments()).toHaveLength(6);
    expect((await envelopeStatus(s.db, 'E3')).number_of_disbursements_shipped).toBe(6);
    const { rows } = await s.db.query<{ attempts: number; code: string | null }>(
      `SELECT funds_available_attempts AS attempts, funds_available_latest_error_code AS code
         FROM disbursement_envelope_batch_status`,
    );
    expect(rows[0]).toEqual({ attempts: 2, code: null });
  });

  it('waits for the schedule date, and retries an envelope whose funds are short', async () => {
    await seedProgram(s.db, { resolution: false });
    await seedEnvelope(s.db, { id: 'LATER', batches: [disbursements('l', 2)], scheduleDate: '2999-01-01' });
    await seedEnvelope(s.db, { id: 'SHORT', batches: [disbursements('s', 2)] });
    s.bank.fundsAvailable = false;
    start({ STAGE_MAX_ATTEMPTS: '2', RETRY_BACKOFF_BASE_SECONDS: '0' });
    await s.workers.runOnce();
    expect(await statusCounts(s.db, 'LATER')).toEqual({ received: 2 });
    expect((await envelopeStatus(s.db, 'LATER')).funds_available_with_bank).toBe('PENDING_CHECK');
    const { rows } = await s.db.query<{ s: string; code: string; n: number }>(
      `SELECT funds_available_with_bank AS s, funds_available_latest_error_code AS code, funds_available_attempts AS n
         FROM disbursement_envelope_batch_status WHERE disbursement_envelope_id = 'SHORT'`,
    );
    expect(rows[0]).toEqual({ s: 'ERROR', code: 'FUNDS_NOT_AVAILABLE', n: 2 });
  });
});
