// Helpers for API tests, written as a PBMS would call the bridge.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { g2pRequest } from '../../src/api/g2p-request.js';
import type { TestApp } from '../support/app.js';

export const TODAY = '2030-03-10';
/** Noon UTC on TODAY: the bridge's clock in these tests. */
export const NOW = `${TODAY}T12:00:00Z`;
export const SCHEDULE = '2030-03-20';

export function g2p(action: string, message: unknown, header: Record<string, unknown> = {}) {
  return g2pRequest(action, message, 'test-pbms', { meta: null, ...header });
}

/** A bridge API client for one test app: `call('create_disbursements', [...])` with a pbms token. */
export function client(t: TestApp) {
  const tokens = new Map<string, string>();
  const tokenFor = async (role: 'pbms' | 'bank' | 'admin') => {
    if (!tokens.has(role)) tokens.set(role, await t.token(role));
    return tokens.get(role)!;
  };
  return {
    async call(action: string, message: unknown, header: Record<string, unknown> = {}) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/${action}`,
        headers: { authorization: `Bearer ${await tokenFor('pbms')}` },
        payload: g2p(action, message, header),
      });
      return { status: res.statusCode, body: res.json() };
    },
    async raw(action: string, payload: unknown, headers: Record<string, string> = {}) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/${action}`,
        headers: { authorization: `Bearer ${await tokenFor('pbms')}`, ...headers },
        payload: payload as string,
      });
      return { status: res.statusCode, body: res.json() };
    },
    async admin(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) {
      const res = await t.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${await tokenFor('admin')}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      return { status: res.statusCode, body: res.json() };
    },
    tokenFor,
  };
}

export type Client = ReturnType<typeof client>;

let programCounter = 0;

/** Creates a program through the admin API; returns its mnemonic. */
export async function addProgram(c: Client, currency = 'USD', fields: Record<string, unknown> = {}) {
  const n = ++programCounter;
  const mnemonic = `PROG-${n}-${randomUUID().slice(0, 6)}`;
  const res = await c.admin('POST', '/admin/programs', {
    benefit_program_mnemonic: mnemonic,
    benefit_program_name: `Program ${n}`,
    funding_org_code: 'MOF',
    funding_org_name: 'Ministry of Finance',
    sponsor_bank_code: 'EXAMPLE',
    sponsor_bank_branch_code: 'BR01',
    sponsor_bank_account_number: `ACC${randomUUID().replaceAll('-', '').slice(0, 16)}`,
    sponsor_bank_account_currency: currency,
    id_mapper_resolution_required: true,
    ...fields,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return mnemonic;
}

export function envelopeMessage(program: string, fields: Record<string, unknown> = {}) {
  return {
    benefit_program_mnemonic: program,
    disbursement_frequency: 'Monthly',
    cycle_code_mnemonic: 'MAR-2030',
    number_of_beneficiaries: 3,
    number_of_disbursements: 3,
    total_disbursement_amount: 300,
    disbursement_currency_code: 'USD',
    disbursement_schedule_date: SCHEDULE,
    ...fields,
  };
}

/** Creates an envelope and returns its id (asserting success). */
export async function addEnvelope(c: Client, program: string, fields: Record<string, unknown> = {}) {
  const res = await c.call('create_disbursement_envelope', envelopeMessage(program, fields));
  expect(res.body.header.status, JSON.stringify(res.body.header)).toBe('succ');
  return res.body.message.disbursement_envelope_id as string;
}

export function disbursement(envelope: string, fields: Record<string, unknown> = {}) {
  return {
    disbursement_envelope_id: envelope,
    beneficiary_id: `BEN-${randomUUID().slice(0, 8)}`,
    beneficiary_name: 'Test Beneficiary',
    disbursement_amount: 100,
    narrative: 'March benefit',
    ...fields,
  };
}

/**
 * A fingerprint of every bridge table (row count and an md5 of all rows), to prove a rejected call
 * changed nothing.
 */
export async function snapshot(t: TestApp): Promise<Record<string, string>> {
  const { rows: tables } = await t.ctx.db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const out: Record<string, string> = {};
  for (const { table_name } of tables) {
    const { rows } = await t.ctx.db.query<{ n: number; h: string | null }>(
      `SELECT count(*) AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM ${table_name} x`,
    );
    out[table_name] = `${rows[0]!.n}:${rows[0]!.h ?? ''}`;
  }
  return out;
}

/** Runs `call`, expects it rejected, and checks that the database did not change. */
export async function expectUnchanged<T>(t: TestApp, call: () => Promise<T>): Promise<T> {
  const before = await snapshot(t);
  const result = await call();
  expect(await snapshot(t)).toEqual(before);
  return result;
}
