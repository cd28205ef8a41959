// End to end on the embedded stack: the PBMS API, the example bank and the example mapper over real HTTP,
// the workers driven stage by stage. One envelope of 300 disbursements goes from the PBMS to the bank's
// ledger and back through its MT940 statement, through bank and mapper outages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './stack.js';

const TODAY = '2030-03-10';
const SCHEDULE = '2030-03-11';
const FUNDING = 'FUND0001';
const N = 300;

const amountOf = (i: number) => 1000 + (i % 7) * 125; // minor units: 10.00 .. 17.50
const money = (minor: number) => (minor / 100).toFixed(2);

describe('end to end: bridge, example bank and example mapper', () => {
  let s: Stack;
  const idOf = new Map<number, string>(); // beneficiary index → disbursement id assigned by the bridge
  let envelope = '';

  beforeAll(async () => {
    s = await startStack();
    s.setNow(`${TODAY}T09:00:00Z`);
    const program = await s.admin('POST', '/admin/programs', {
      benefit_program_mnemonic: 'CASH-E2E',
      benefit_program_name: 'Cash transfer',
      funding_org_code: 'MOF',
      funding_org_name: 'Ministry of Finance',
      sponsor_bank_code: 'EXAMPLE',
      sponsor_bank_branch_code: 'BR01',
      sponsor_bank_account_number: FUNDING,
      sponsor_bank_account_currency: 'USD',
      id_mapper_resolution_required: true,
    });
    expect(program.status, JSON.stringify(program.body)).toBe(201);
    const opened = await s.bank.openAccount({
      accountNumber: FUNDING,
      currency: 'USD',
      openingBalance: '1000000.00',
      statementsEnabled: true,
    });
    expect(opened.ok).toBe(true);
    // Every sixth beneficiary is unknown to the mapper.
    await s.mapper.link(
      Array.from({ length: N }, (_, i) => i)
        .filter((i) => i % 6 !== 0)
        .map((i) => ({
          id: `BEN${i}`,
          fa: `account_number:ACC${i}.branch_code:BR9.bank_code:OTHERBANK.mobile_number:.email_address:.fa_type:BANK_ACCOUNT`,
          name: `Person ${i}`,
        })),
    );
  });
  afterAll(async () => {
    await s?.close();
  });

  it('carries an envelope from the PBMS to reconciled payments, through bank and mapper outages', async () => {
    const total = Array.from({ length: N }, (_, i) => amountOf(i)).reduce((a, b) => a + b, 0);
    const envelopeFields = {
      benefit_program_mnemonic: 'CASH-E2E',
      disbursement_frequency: 'Monthly',
      cycle_code_mnemonic: 'MAR-2030',
      number_of_beneficiaries: N,
      number_of_disbursements: N,
      total_disbursement_amount: money(total),
      disbursement_currency_code: 'USD',
      disbursement_schedule_date: SCHEDULE,
    };
    const created = await s.call('create_disbursement_envelope', envelopeFields);
    expect(created.body.header.status, JSON.stringify(created.body.header)).toBe('succ');
    envelope = created.body.message.disbursement_envelope_id;
    for (let b = 0; b < 3; b++) {
      const items = Array.from({ length: 100 }, (_, k) => b * 100 + k).map((i) => ({
        disbursement_envelope_id: envelope,
        beneficiary_id: `BEN${i}`,
        beneficiary_name: `Person ${i}`,
        disbursement_amount: money(amountOf(i)),
        narrative: 'March benefit',
        mis_reference_number: `MIS-${i}`,
      }));
      const res = await s.call('create_disbursements', items);
      expect(res.body.header.status, JSON.stringify(res.body.header)).toBe('succ');
      for (const item of res.body.message)
        idOf.set(Number(item.mis_reference_number.slice(4)), item.disbursement_id);
    }
    // The PBMS cancels one disbursement and amends the envelope's control figures to match.
    const cancelled = await s.call('cancel_disbursements', [{ disbursement_id: idOf.get(1) }]);
    expect(cancelled.body.header.status, JSON.stringify(cancelled.body)).toBe('succ');
    const amended = await s.call('amend_disbursement_envelope', {
      ...envelopeFields,
      disbursement_envelope_id: envelope,
      number_of_beneficiaries: N - 1,
      number_of_disbursements: N - 1,
      total_disbursement_amount: money(total - amountOf(1)),
    });
    expect(amended.body.header.status, JSON.stringify(amended.body)).toBe('succ');

    // Before the schedule date only the mapper works; it is down twice, then recovers.
    s.mapper.faults.failNext(2, 'error');
    await s.workers.runOnce();
    const { rows: early } = await s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM mapper_resolution_batch_status WHERE resolution_status = 'PROCESSED'`,
    );
    expect(early[0]!.n).toBe(3);
    expect(
      (
        await s.db.query(
          `SELECT 1 FROM bank_disbursement_batch_status WHERE disbursement_status <> 'PENDING'`,
        )
      ).rows,
    ).toHaveLength(0);

    // The schedule date: the bank answers 500 once on each call, and loses one acknowledgement after paying.
    s.setNow(`${SCHEDULE}T09:00:00Z`);
    s.bank.faults.failNext('check_funds', 1, 'error');
    s.bank.faults.failNext('block_funds', 1, 'error');
    s.bank.faults.failNext('initiate_payment', 1, 'error');
    s.bank.faults.failNext('initiate_payment', 1, 'error_after_commit');
    await s.workers.runOnce();
    const shippedIds = [...idOf.entries()].filter(([i]) => i % 6 !== 0 && i !== 1).map(([, id]) => id);
    const unresolvedIds = [...idOf.entries()].filter(([i]) => i % 6 === 0).map(([, id]) => id);
    const { rows: attempts } = await s.db.query<{ a: number; b: number }>(
      `SELECT funds_available_attempts AS a, funds_blocked_attempts AS b FROM disbursement_envelope_batch_status`,
    );
    expect(attempts[0]).toEqual({ a: 2, b: 2 });
    const { rows: batchAttempts } = await s.db.query<{ n: number }>(
      `SELECT sum(disbursement_attempts)::int AS n FROM bank_disbursement_batch_status`,
    );
    expect(batchAttempts[0]!.n).toBe(5); // 3 batches, one 500 and one lost acknowledgement

    // The bank posts the payments and delivers its statement to upload_mt940 over HTTP.
    const processed = await s.bank.processNow();
    expect(processed.processed).toBe(shippedIds.length);
    expect(processed.statements?.delivered).toBeGreaterThan(0);
    await s.workers.runOnce();

    // Every disbursement's final state.
    const { rows: states } = await s.db.query<{ id: string; status: string; reason: string | null }>(
      `SELECT disbursement_id AS id, lifecycle_status AS status, lifecycle_reason AS reason
         FROM disbursement_lifecycle WHERE disbursement_envelope_id = $1`,
      [envelope],
    );
    const byId = new Map(states.map((r) => [r.id, r]));
    expect(states).toHaveLength(N);
    expect(byId.get(idOf.get(1)!)).toMatchObject({ status: 'cancelled', reason: null });
    for (const id of unresolvedIds)
      expect(byId.get(id)).toMatchObject({ status: 'unresolved', reason: 'succ.id.not_found' });
    const { rows: bankPayments } = await s.db.query<{
      ref: string;
      status: string;
      reason: string | null;
      amount: string;
    }>(
      `SELECT payment_reference AS ref, status, reversal_reason AS reason, amount::text AS amount
         FROM example_bank.payment WHERE account_number = $1`,
      [FUNDING],
    );
    expect(bankPayments.map((p) => p.ref).sort()).toEqual([...shippedIds].sort()); // each paid exactly once
    const reversedAtBank = bankPayments.filter((p) => p.status === 'REVERSED');
    expect(reversedAtBank.length).toBeGreaterThan(0);
    for (const p of bankPayments) {
      const st = byId.get(p.ref)!;
      if (p.status === 'REVERSED') expect(st).toEqual({ id: p.ref, status: 'reversed', reason: p.reason });
      else expect(st).toEqual({ id: p.ref, status: 'reconciled', reason: null });
    }

    // Every envelope counter.
    const status = await s.call('get_disbursement_envelope_status', envelope);
    expect(status.body.header.status).toBe('succ');
    const { rows: env } = await s.db.query(
      `SELECT number_of_disbursements_received AS received, number_of_disbursements_shipped AS shipped,
              number_of_disbursements_reconciled AS reconciled, number_of_disbursements_reversed AS reversed,
              funds_available_with_bank AS funds, funds_blocked_with_bank AS block
         FROM disbursement_envelope_batch_status WHERE disbursement_envelope_id = $1`,
      [envelope],
    );
    expect(env[0]).toEqual({
      received: N - 1,
      shipped: shippedIds.length,
      reconciled: shippedIds.length,
      reversed: reversedAtBank.length,
      funds: 'FUNDS_AVAILABLE',
      block: 'FUNDS_BLOCK_SUCCESS',
    });
    expect((await s.db.query(`SELECT 1 FROM disbursement_error_recon`)).rows).toHaveLength(0);

    // The bank's ledger agrees: shipped total = debited total; reversed payments credited back.
    const { rows: sums } = await s.db.query<{ shipped: string; reversed: string }>(
      `SELECT sum(d.disbursement_amount)::text AS shipped,
              coalesce(sum(d.disbursement_amount) FILTER (WHERE l.lifecycle_status = 'reversed'), 0)::text AS reversed
         FROM disbursement d JOIN disbursement_lifecycle l USING (disbursement_id)
        WHERE l.lifecycle_status IN ('reconciled', 'reversed')`,
    );
    const { rows: ledger } = await s.db.query<{ debited: string; credited_back: string; balance: string }>(
      `SELECT coalesce(sum(amount) FILTER (WHERE mark = 'D'), 0)::text AS debited,
              coalesce(sum(amount) FILTER (WHERE mark = 'RD'), 0)::text AS credited_back,
              (SELECT book_balance::text FROM example_bank.account WHERE account_number = $1) AS balance
         FROM example_bank.ledger_entry WHERE account_number = $1`,
      [FUNDING],
    );
    expect(Number(ledger[0]!.debited)).toBe(Number(sums[0]!.shipped));
    expect(Number(ledger[0]!.credited_back)).toBe(Number(sums[0]!.reversed));
    expect(Number(ledger[0]!.balance)).toBeCloseTo(
      1_000_000 - Number(sums[0]!.shipped) + Number(sums[0]!.reversed),
      2,
    );

    // get_disbursement_status shows the lifecycle beside the recon fields.
    const reversedId = reversedAtBank[0]!.ref;
    const look = await s.call('get_disbursement_status', [reversedId, unresolvedIds[0], idOf.get(1)]);
    expect(look.body.header.status).toBe('succ');
    const [rev, unres, canc] = look.body.message;
    expect(rev.lifecycle_status).toBe('reversed');
    expect(rev.lifecycle_reason).toBe(reversedAtBank[0]!.reason);
    expect(rev.disbursement_recon_records.disbursement_recon_payloads[0]).toMatchObject({
      disbursement_id: reversedId,
      reversal_found: true,
    });
    expect(unres).toMatchObject({ lifecycle_status: 'unresolved', lifecycle_reason: 'succ.id.not_found' });
    expect(canc.lifecycle_status).toBe('cancelled');

    // The bank delivers the same statement again: recognised, nothing counted twice.
    const { rows: texts } = await s.db.query<{ mt940: string }>(`SELECT mt940 FROM example_bank.statement`);
    const form = new FormData();
    form.append('statement_file', new Blob([texts[0]!.mt940]), 'again.sta');
    const again = await fetch(`${s.url}/upload_mt940`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await s.token('bank')}` },
      body: form,
    });
    expect(again.status).toBe(200);
    await s.workers.runOnce();
    const { rows: dup } = await s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM account_statement WHERE duplicate_of_statement_id IS NOT NULL`,
    );
    expect(dup[0]!.n).toBe(1);
    const { rows: after } = await s.db.query(
      `SELECT number_of_disbursements_reconciled AS reconciled, number_of_disbursements_reversed AS reversed
         FROM disbursement_envelope_batch_status WHERE disbursement_envelope_id = $1`,
      [envelope],
    );
    expect(after[0]).toEqual({ reconciled: shippedIds.length, reversed: reversedAtBank.length });
  });
});
