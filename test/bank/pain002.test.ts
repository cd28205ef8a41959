// pain.002 parser: statuses at three levels with reason codes, and hostile input answered with a code.
import { describe, expect, it } from 'vitest';
import { effectiveStatus, parsePain002 } from '../../src/bank/iso20022/pain002.js';
import { pain002 } from './pain-fixtures.js';

describe('pain.002 parser', () => {
  it('reads group, payment and transaction statuses with reason codes', () => {
    const r = parsePain002(
      pain002('MSG1', { status: 'PART' }, [
        ['D-1', 'ACSC'],
        ['D-2', 'RJCT', 'AC04'],
      ]),
    );
    if (!r.ok) throw new Error(r.message);
    expect(r.report.originalMessageId).toBe('MSG1');
    expect(r.report.groupStatus).toBe('PART');
    const p = r.report.payments[0]!;
    expect(p.originalPaymentInformationId).toBe('MSG1');
    expect(p.transactions).toEqual([
      { originalEndToEndId: 'D-1', originalInstructionId: 'D-1', status: 'ACSC', reasons: [] },
      { originalEndToEndId: 'D-2', originalInstructionId: 'D-2', status: 'RJCT', reasons: ['AC04'] },
    ]);
    expect(effectiveStatus(r.report, p, p.transactions[1]!)).toEqual({ status: 'RJCT', reason: 'AC04' });
  });

  it('a rejected group rejects every transaction, whatever they say', () => {
    const r = parsePain002(pain002('MSG1', { status: 'RJCT', reason: 'FF01' }, [['D-1', 'ACCP']]));
    if (!r.ok) throw new Error(r.message);
    const p = r.report.payments[0]!;
    expect(effectiveStatus(r.report, p, p.transactions[0]!)).toEqual({ status: 'RJCT', reason: 'FF01' });
  });

  it.each([
    ['<!DOCTYPE x [<!ENTITY a "b">]><Document/>', 'PAIN002_DOCTYPE'],
    ['not xml at all', 'PAIN002_NOT_XML'],
    [pain002('M', { status: 'ACCP' }).slice(0, 200), 'PAIN002_NOT_XML'],
    ['<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>', 'PAIN002_NOT_PAIN002'],
    [pain002('M', { status: 'WHAT' }), 'PAIN002_INVALID'],
    [`${'<a>'.repeat(100)}`, 'PAIN002_NOT_PAIN002'],
    [
      pain002('M', { status: 'ACCP' }).replace('<MsgId>', `<MsgId>${'x'.repeat(20_000)}`),
      'PAIN002_TOO_LARGE',
    ],
    [pain002('', { status: 'ACCP' }), 'PAIN002_INVALID'],
  ])('refuses hostile input %#', (xml, code) => {
    const r = parsePain002(xml);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe(code);
  });

  it('bounds nesting depth', () => {
    const deep = pain002('M', { status: 'ACCP' }).replace(
      '</GrpHdr>',
      `${'<X>'.repeat(50)}${'</X>'.repeat(50)}</GrpHdr>`,
    );
    const r = parsePain002(deep);
    expect(r.ok ? 'ok' : r.code).toBe('PAIN002_TOO_DEEP');
  });
});
