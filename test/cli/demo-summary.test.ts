// The demo's summary knows every lifecycle state (refused included) and prints the stages' wall times;
// the stage clock times stages from polled progress, exact to one poll.
import { describe, expect, it } from 'vitest';
import { StageClock } from '../../src/demo/progress.js';
import { renderStages, renderSummary, type SummaryInput } from '../../src/demo/summary.js';

function input(overrides: Partial<SummaryInput> = {}): SummaryInput {
  return {
    envelopeId: 'ENV-1',
    program: 'PRG',
    currency: 'USD',
    exponent: 2,
    states: {
      received: { count: 0, amount: '0' },
      cancelled: { count: 1, amount: '10.00' },
      unresolved: { count: 2, amount: '20.00' },
      shipped: { count: 0, amount: '0' },
      refused: { count: 3, amount: '30.03' },
      reconciled: { count: 4, amount: '40.00' },
      reversed: { count: 1, amount: '5.00' },
    },
    reasons: [
      { state: 'refused', reason: 'AMOUNT_TOO_LARGE', count: 2, amount: '20.02' },
      { state: 'refused', reason: 'BLOCK_EXCEEDED', count: 1, amount: '10.01' },
      { state: 'reversed', reason: 'ACCOUNT_CLOSED', count: 1, amount: '5.00' },
    ],
    api: {
      number_of_disbursements_shipped: 5,
      number_of_disbursements_reconciled: 5,
      number_of_disbursements_reversed: 1,
      lifecycle_summary: {
        received: { count: 0 },
        cancelled: { count: 1 },
        unresolved: { count: 2 },
        shipped: { count: 0 },
        refused: { count: 3 },
        reconciled: { count: 4 },
        reversed: { count: 1 },
      },
    },
    expected: {
      count: 11,
      total: '105.03',
      cancelled: 1,
      cancelledAmount: '10.00',
      unresolved: 2,
      unresolvedAmount: '20.00',
    },
    statements: { processed: 1, errorRecons: 0 },
    elapsedMs: 1234,
    ...overrides,
  };
}

describe('demo summary', () => {
  it('counts refused disbursements in the total and shows them with their codes', () => {
    const { text, checks } = renderSummary(input());
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(text).toMatch(/refused by the bank\s+3\s+30\.03/);
    expect(text).toMatch(/received from the PBMS\s+11\s+105\.03/);
    expect(text).toContain('refused because: AMOUNT_TOO_LARGE (2), BLOCK_EXCEEDED (1)');
    expect(text).toContain('received = cancelled + unresolved + refused + shipped + still to ship');
  });

  it('fails the lifecycle check when the API counts refused differently', () => {
    const base = input();
    const { checks } = renderSummary({
      ...base,
      api: { ...base.api, lifecycle_summary: { ...base.api.lifecycle_summary, refused: { count: 2 } } },
    });
    expect(checks.find((c) => c.text.includes('lifecycle_summary'))?.ok).toBe(false);
  });

  it('fails the totals check when a refused cent goes missing', () => {
    const base = input();
    const { checks } = renderSummary({
      ...base,
      states: { ...base.states, refused: { count: 3, amount: '30.02' } },
    });
    expect(checks.find((c) => c.text.startsWith('the bridge holds what the demo sent'))?.ok).toBe(false);
  });

  it('prints the stages with their wall time and rate, and says which never finished', () => {
    const lines = renderStages([
      { key: 'ingest', label: 'ingest', startedMs: 0, finishedMs: 2500, rows: 100_000 },
      { key: 'bank', label: 'bank posting', startedMs: 1000, finishedMs: null, rows: 5 },
    ]);
    expect(lines.join('\n')).toMatch(/ingest\s+0\.0 s\s+2\.5 s\s+2\.5 s\s+100,000\s+40,000/);
    expect(lines.join('\n')).toMatch(/bank posting\s+1\.0 s\s+–\s+not done\s+5\s+–/);
    const { text } = renderSummary(
      input({ stages: [{ key: 'ingest', label: 'ingest', startedMs: 0, finishedMs: 1000, rows: 10 }] }),
    );
    expect(text).toMatch(/Stages/);
  });
});

describe('stage clock', () => {
  it('starts a stage after the last poll that saw it idle and ends it at the first that sees it done', () => {
    const clock = new StageClock(1000);
    const bar = (done: number, of: number) => [{ key: 'bank', label: 'bank posting', done, of, text: '' }];
    clock.observe(bar(0, 10), 2000);
    clock.observe(bar(0, 10), 3000);
    clock.observe(bar(4, 10), 4000);
    clock.observe(bar(10, 10), 5000);
    clock.observe(bar(10, 10), 6000);
    clock.rows('bank', 10);
    expect(clock.timings(['bank'])).toEqual([
      { key: 'bank', label: 'bank posting', startedMs: 2000, finishedMs: 4000, rows: 10 },
    ]);
  });

  it('keeps stages in the order asked, then the others; a stage never complete has no end', () => {
    const clock = new StageClock(0);
    clock.observe([{ key: 'b', label: 'b', done: 1, of: 2, text: '' }], 10);
    clock.set('a', 'a', 0, 5);
    expect(clock.timings(['a', 'missing']).map((t) => [t.key, t.finishedMs])).toEqual([
      ['a', 5],
      ['b', null],
    ]);
  });
});
