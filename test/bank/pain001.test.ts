// pain.001 writer: schema-valid files (xmllint against the pain.001.001.03 XSD), exact sums, derived ids,
// and payments a version cannot carry refused with a code instead of dropped.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  batchIdCandidates,
  messageIdOf,
  type Pain001Options,
  writePain001,
} from '../../src/bank/iso20022/pain001.js';
import { sharedFile } from '../support/shared.js';
import { payment } from './pain-fixtures.js';

const XSD = sharedFile('spec/iso20022/pain.001.001.03.xsd');
if (!XSD) console.warn('pain001: XSD validation SKIPPED: no ../shared/spec/iso20022 (set G2P_SHARED_DIR)');
const dir = mkdtempSync(join(tmpdir(), 'pain001-'));

function xsdValid(xml: string): string {
  if (!XSD) return 'valid'; // no schema in this checkout: the exact sums and ids are still checked below
  const file = join(dir, `f${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  try {
    execFileSync('xmllint', ['--noout', '--schema', XSD, file], { stdio: 'pipe' });
    return 'valid';
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e);
  }
}

const options: Pain001Options = {
  version: '001.001.03',
  debtorName: 'Ministry of Social Welfare',
  debtorAgentBic: 'EXMPLBNKXXX',
  accountScheme: 'OTHR',
  batchBooking: true,
  categoryPurpose: 'GOVT',
  chargeBearer: 'SLEV',
};
const batchId = '0b5c2f1e-8a7d-4c3b-9e21-5f6a7b8c9d0e';
const at = new Date('2025-03-09T12:00:00.123Z');

describe('pain.001 writer', () => {
  it('writes a schema-valid .03 file with exact counts and sums at both levels', () => {
    const out = writePain001(
      batchId,
      [
        payment('D-1', '0.10'),
        payment('D-2', '0.20'),
        payment('D-3', '999999999999.99', { beneficiaryAccount: '000123', beneficiaryBankCode: '040001' }),
        payment('D-4', '7', {
          beneficiaryAccountType: 'MOBILE_WALLET',
          beneficiaryAccount: '+254700000001',
          beneficiaryBankCode: null,
          beneficiaryMobileWalletProvider: 'MPESA',
        }),
      ],
      options,
      at,
    );
    if ('error' in out) throw new Error(out.error);
    expect(xsdValid(out.xml)).toBe('valid');
    expect(out.msgId).toBe('0b5c2f1e8a7d4c3b9e215f6a7b8c9d0e');
    expect(out.controlSum).toBe('1000000000007.29'); // no float rounding: 0.1 + 0.2 is 0.30
    expect(out.xml.match(/<NbOfTxs>4<\/NbOfTxs>/g)).toHaveLength(2);
    expect(out.xml.match(/<CtrlSum>1000000000007.29<\/CtrlSum>/g)).toHaveLength(2);
    expect(out.xml).toContain('<EndToEndId>D-1</EndToEndId>');
    expect(out.xml).toContain('<InstdAmt Ccy="EUR">7.00</InstdAmt>');
    expect(out.xml).toContain('<IBAN>DE89370400440532013000</IBAN>');
    expect(out.xml).toContain('<BIC>COBADEFFXXX</BIC>');
    expect(out.xml).toContain('<ClrSysMmbId><MmbId>040001</MmbId></ClrSysMmbId>');
    expect(out.xml).toContain('<Othr><Id>MPESA</Id></Othr>');
    expect(out.xml).toContain('<Prtry>TELE</Prtry>');
    expect(out.xml).toContain('<PmtInfId>0b5c2f1e8a7d4c3b9e215f6a7b8c9d0e</PmtInfId>');
    expect(out.xml).not.toContain('<Okafor');
    expect(batchIdCandidates(out.msgId)).toContain(batchId);
  });

  it('is a pure function: a retried batch gets the same MsgId and bytes', () => {
    const a = writePain001(batchId, [payment('D-1', '1.00')], options, at);
    const b = writePain001(batchId, [payment('D-1', '1.00')], options, at);
    expect(a).toEqual(b);
  });

  it('refuses what .03 cannot carry, writes it with a proxy in .09', () => {
    const email = payment('D-9', '5.00', {
      beneficiaryAccountType: 'EMAIL_WALLET',
      beneficiaryAccount: 'a.very.long.address.for.a.wallet@example.org',
      beneficiaryBankCode: null,
      beneficiaryEmailWalletProvider: 'PAYWALL',
    });
    const v3 = writePain001(batchId, [payment('D-1', '1.00'), email], options, at);
    if ('error' in v3) throw new Error(v3.error);
    expect(v3.refused).toEqual([{ disbursementId: 'D-9', errorCode: 'WALLET_ID_NEEDS_PAIN001_09' }]);
    expect(v3.numberOfTransactions).toBe(1);
    expect(xsdValid(v3.xml)).toBe('valid');
    const v9 = writePain001(
      batchId,
      [payment('D-1', '1.00'), email],
      { ...options, version: '001.001.09' },
      at,
    );
    if ('error' in v9) throw new Error(v9.error);
    expect(v9.refused).toEqual([]);
    expect(v9.xml).toContain('urn:iso:std:iso:20022:tech:xsd:pain.001.001.09');
    expect(v9.xml).toContain(
      '<Prxy><Tp><Cd>EMAL</Cd></Tp><Id>a.very.long.address.for.a.wallet@example.org</Id></Prxy>',
    );
    expect(v9.xml).toContain('<ReqdExctnDt><Dt>2025-03-10</Dt></ReqdExctnDt>');
    expect(v9.xml).toContain('<BICFI>COBADEFFXXX</BICFI>');
  });

  it('refuses amounts with more decimals than the currency, long references and missing accounts', () => {
    const out = writePain001(
      batchId,
      [
        payment('D-1', '1.005'),
        payment('X'.repeat(36), '1.00'),
        payment('D-3', '1.00', { beneficiaryAccount: null }),
        payment('D-4', '2.50', { beneficiaryAccount: 'GB82 WEST 1234 5698 7654 32' }),
      ],
      { ...options, accountScheme: 'IBAN' },
      at,
    );
    if ('error' in out) throw new Error(out.error);
    expect(out.refused.map((r) => r.errorCode)).toEqual([
      'AMOUNT_NOT_EXACT',
      'REFERENCE_NOT_MAX35TEXT',
      'CREDITOR_ACCOUNT_MISSING',
    ]);
    expect(out.controlSum).toBe('2.50');
    expect(out.xml).toContain('<IBAN>GB82WEST12345698765432</IBAN>');
  });

  it('derives MsgIds within Max35Text or refuses the batch', () => {
    expect(messageIdOf('batch-7')).toBe('batch7');
    expect(messageIdOf('x'.repeat(36))).toBeNull();
    expect(writePain001('a b', [payment('D-1', '1')], options, at)).toEqual({ error: 'MSGID_NOT_DERIVABLE' });
  });
});
