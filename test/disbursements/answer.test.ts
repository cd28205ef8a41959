// The create_disbursements answer is written item by item into one buffer; it must be exactly what
// JSON.stringify writes for the same items as objects, whatever the strings hold (quotes, control
// characters, non-ASCII, lone surrogates) and whatever the amounts are.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createdAnswer, type KeptAnswer, rebuildCreatedAnswer } from '../../src/disbursements/answer.js';
import type { DisbursementPayload } from '../../src/disbursements/service.js';
import { amountOut } from '../../src/g2p/amounts.js';

/** The answer as objects, in the order of disbursementOutSchema: the definition the bytes must match. */
function asObjects(
  items: readonly DisbursementPayload[],
  ids: readonly string[],
  decimals: readonly string[],
  kept: KeptAnswer,
) {
  return items.map((item, i) => ({
    id: ids[i],
    mis_reference_number: item.mis_reference_number ?? null,
    disbursement_id: ids[i],
    disbursement_envelope_id: kept.envelope,
    beneficiary_id: item.beneficiary_id,
    beneficiary_name: item.beneficiary_name,
    disbursement_amount: amountOut(decimals[i]!),
    narrative: item.narrative,
    receipt_time_stamp: kept.at,
    cancellation_status: 'Not_Cancelled',
    cancellation_time_stamp: null,
    response_error_codes: [],
  }));
}

const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const someText = fc.oneof(
  anyText,
  fc.string({
    unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', 'é', '€', '\ud83d', '\ude00', 'a'),
    maxLength: 12,
  }),
);
const decimal = fc
  .tuple(fc.bigInt({ min: 1n, max: 10n ** 30n }), fc.integer({ min: 0, max: 4 }))
  .map(([units, exponent]) => {
    const digits = units.toString().padStart(exponent + 1, '0');
    return exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  });

describe('the create_disbursements answer', () => {
  it('is, byte for byte, JSON.stringify of the items as objects', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id: someText,
            mis: fc.option(someText, { nil: null }),
            beneficiary: someText,
            name: someText,
            narrative: someText,
            decimal,
          }),
          { minLength: 1, maxLength: 20 },
        ),
        someText,
        (rows, envelope) => {
          const items: DisbursementPayload[] = rows.map((r) => ({
            mis_reference_number: r.mis,
            beneficiary_id: r.beneficiary,
            beneficiary_name: r.name,
            narrative: r.narrative,
            disbursement_amount: r.decimal,
          }));
          const ids = rows.map((r) => r.id);
          const decimals = rows.map((r) => r.decimal);
          const kept = { envelope, currency: 'USD', at: '2030-03-01T10:00:00.000Z', assigned: '' };
          const bytes = createdAnswer(items, ids, decimals, kept).bytes;
          expect(bytes.equals(Buffer.from(JSON.stringify(asObjects(items, ids, decimals, kept))))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is rebuilt for a replay from the request and the kept figures', () => {
    const items: DisbursementPayload[] = [
      {
        disbursement_id: 'PBMS-1',
        beneficiary_id: 'B1',
        beneficiary_name: 'Zoë "Z" Ä',
        narrative: 'n',
        disbursement_amount: 10,
      },
      {
        beneficiary_id: 'B2',
        beneficiary_name: 'Ana',
        narrative: 'n\tx',
        disbursement_amount: '0.50',
        mis_reference_number: 'M2',
      },
    ];
    const kept = { envelope: 'ENV-1', currency: 'USD', at: '2030-03-01T10:00:00.000Z', assigned: '' };
    const first = createdAnswer(items, ['PBMS-1', 'D-7'], ['10.00', '0.50'], { ...kept, assigned: 'D-7' });
    const again = rebuildCreatedAnswer(items, { ...kept, assigned: 'D-7' });
    expect(again.bytes.equals(first.bytes)).toBe(true);
    expect(JSON.parse(first.text)).toMatchObject([
      { id: 'PBMS-1', disbursement_amount: 10, beneficiary_name: 'Zoë "Z" Ä' },
      { id: 'D-7', disbursement_amount: 0.5, narrative: 'n\tx', mis_reference_number: 'M2' },
    ]);
  });

  it('goes out framed by the header from its own buffer once, and as a copy after that', () => {
    const items: DisbursementPayload[] = [
      { beneficiary_id: 'B1', beneficiary_name: 'Ana', narrative: 'n', disbursement_amount: '1.00' },
    ];
    const kept = { envelope: 'ENV-1', currency: 'USD', at: '2030-03-01T10:00:00.000Z', assigned: 'D-1' };
    const answer = createdAnswer(items, ['D-1'], ['1.00'], kept);
    const opening = '{"signature":null,"header":{"status":"succ"},"message":';
    const expected = Buffer.from(`${opening}${answer.text}}`);
    const first = answer.wrapped(opening, '}');
    expect(first.equals(expected)).toBe(true);
    expect(JSON.parse(first.toString()).message[0].id).toBe('D-1');
    // A second frame does not write over the first answer's bytes.
    const second = answer.wrapped('{"other":', '}');
    expect(second.toString()).toBe(`{"other":${answer.text}}`);
    expect(first.equals(expected)).toBe(true);
    // A frame larger than the spare room is copied around the items.
    const long = `{"header":{"x":"${'é'.repeat(1100)}"},"message":`;
    const third = createdAnswer(items, ['D-1'], ['1.00'], kept).wrapped(long, '}');
    expect(third.toString()).toBe(`${long}${answer.text}}`);
  });
});
