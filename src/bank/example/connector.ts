// The example bank connector: JSON over HTTP to the example bank simulator (src/simulators/example-bank).
// Every call has a deadline; nothing here throws: transport trouble and bank refusals come back as
// { status: 'FAILURE', errorCode } so the bridge can record the code on the driving row and retry.
import type {
  BankConnector,
  BlockFundsResult,
  CheckFundsResult,
  ConnectorFailure,
  ConnectorLimits,
  ConnectorModuleFactory,
  InitiatePaymentResult,
  Payment,
  PaymentRefusal,
} from '../connector.js';
import { BANK_ERROR, failure, httpErrorCode, transportErrorCode } from '../errors.js';
import {
  MAX_PAYMENT_REFERENCE_LENGTH,
  MAX_STATEMENT_AMOUNT_DIGITS,
  NARRATIVE_LINE,
  NO_REFERENCE,
  PAYMENT_REFERENCE_PATTERN,
  parseReferenceLine,
} from './layout.js';

export const EXAMPLE_BANK_PREFIX = '/example-bank';
const DEFAULT_TIMEOUT_MS = 10_000;

export interface ExampleConnectorSettings {
  bankCode: string;
  /** Base URL of the example bank's API, e.g. http://127.0.0.1:8000/example-bank */
  baseUrl: string;
  timeoutMs: number;
  /** Bearer token for a bank that listens beyond loopback (EXAMPLE_BANK_TOKEN): one with the admin role. */
  token?: string;
}

/**
 * Reads EXAMPLE_BANK_URL (default: the bridge's own port, where `start` mounts the bank), EXAMPLE_BANK_TIMEOUT_MS
 * and EXAMPLE_BANK_TOKEN.
 */
export function exampleConnectorSettings(
  bankCode: string,
  env: Record<string, string | undefined>,
): ExampleConnectorSettings {
  const port = env.PORT || '8000';
  const baseUrl = (env.EXAMPLE_BANK_URL || `http://127.0.0.1:${port}${EXAMPLE_BANK_PREFIX}`).replace(
    /\/+$/,
    '',
  );
  try {
    new URL(baseUrl);
  } catch {
    throw new Error(`EXAMPLE_BANK_URL is not a URL: ${JSON.stringify(baseUrl)}`);
  }
  const raw = env.EXAMPLE_BANK_TIMEOUT_MS;
  const timeoutMs = raw ? Number(raw) : DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new Error(`EXAMPLE_BANK_TIMEOUT_MS must be a positive whole number, got ${JSON.stringify(raw)}`);
  return { bankCode, baseUrl, timeoutMs, token: env.EXAMPLE_BANK_TOKEN || undefined };
}

type Answer = { ok: true; body: Record<string, unknown> } | { ok: false; failure: ConnectorFailure };

/**
 * What the example bank carries: a payment reference of 1..35 printable ASCII characters (its :86: line 5) and
 * an amount its MT940 statement can write (15 characters with the decimal comma).
 */
export const EXAMPLE_BANK_LIMITS: ConnectorLimits = {
  maxReferenceLength: MAX_PAYMENT_REFERENCE_LENGTH,
  referencePattern: PAYMENT_REFERENCE_PATTERN,
  maxAmountDigits: MAX_STATEMENT_AMOUNT_DIGITS,
};

export class ExampleBankConnector implements BankConnector {
  readonly bankCode: string;
  readonly limits = EXAMPLE_BANK_LIMITS;

  constructor(private readonly settings: ExampleConnectorSettings) {
    this.bankCode = settings.bankCode;
  }

  async checkFunds(account: string, currency: string, amount: string): Promise<CheckFundsResult> {
    const answer = await this.call('check_funds', { account_number: account, currency, amount });
    if (!answer.ok) return answer.failure;
    const status = answer.body.status;
    if (status === 'FUNDS_AVAILABLE' || status === 'FUNDS_NOT_AVAILABLE') return { status };
    return failure(BANK_ERROR.BAD_RESPONSE, `check_funds answered status ${JSON.stringify(status)}`);
  }

  async blockFunds(
    account: string,
    currency: string,
    amount: string,
    idempotencyKey: string,
  ): Promise<BlockFundsResult> {
    const answer = await this.call('block_funds', {
      account_number: account,
      currency,
      amount,
      idempotency_key: idempotencyKey,
    });
    if (!answer.ok) return answer.failure;
    const reference = answer.body.block_reference;
    if (answer.body.status === 'SUCCESS' && typeof reference === 'string' && reference !== '')
      return { status: 'SUCCESS', blockReference: reference };
    return failure(BANK_ERROR.BAD_RESPONSE, 'block_funds answered without a block reference');
  }

  async initiatePayment(batchId: string, payments: Payment[]): Promise<InitiatePaymentResult> {
    const answer = await this.call('initiate_payment', {
      batch_id: batchId,
      payments: payments.map(toWire),
    });
    if (!answer.ok) return answer.failure;
    if (answer.body.status !== 'SUCCESS')
      return failure(BANK_ERROR.BAD_RESPONSE, 'initiate_payment answered without SUCCESS');
    const refused = answer.body.refused ?? [];
    if (!Array.isArray(refused))
      return failure(BANK_ERROR.BAD_RESPONSE, 'initiate_payment answered a refused list that is not a list');
    const out: PaymentRefusal[] = [];
    for (const r of refused as Array<Record<string, unknown>>) {
      const id = r?.disbursement_id;
      const code = r?.error_code;
      if (typeof id !== 'string' || typeof code !== 'string' || !/^[A-Z0-9_]{1,64}$/.test(code))
        return failure(BANK_ERROR.BAD_RESPONSE, 'initiate_payment answered a refusal without id or code');
      out.push({ disbursementId: id, errorCode: code });
    }
    return out.length ? { status: 'SUCCESS', refused: out } : { status: 'SUCCESS' };
  }

  retrieveDisbursementId(
    _bankReference: string | null,
    customerReference: string,
    narratives: string[],
  ): string | null {
    const reference = customerReference.trim();
    if (reference !== '' && reference !== NO_REFERENCE) return reference;
    return parseReferenceLine(narratives[NARRATIVE_LINE.reference])?.reference ?? null;
  }

  retrieveBeneficiaryName(narratives: string[]): string | null {
    const name = narratives[NARRATIVE_LINE.beneficiaryName]?.trim();
    return name ? name : null;
  }

  retrieveReversalReason(narratives: string[]): string | null {
    return parseReferenceLine(narratives[NARRATIVE_LINE.reference])?.reversalReason ?? null;
  }

  /** One POST with a deadline covering the whole exchange, body included. */
  private async call(operation: string, payload: unknown): Promise<Answer> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.settings.baseUrl}/${operation}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.settings.token ? { authorization: `Bearer ${this.settings.token}` } : {}),
        },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const code = transportErrorCode(error);
      return { ok: false, failure: failure(code, `${operation}: ${describe(error)}`) };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const object = body !== null && typeof body === 'object' && !Array.isArray(body);
    if (response.status >= 500) {
      return {
        ok: false,
        failure: failure(httpErrorCode(response.status), `${operation}: HTTP ${response.status}`),
      };
    }
    if (!response.ok) {
      // The bank's refusals carry their own code (INSUFFICIENT_FUNDS, ACCOUNT_NOT_FOUND ...).
      const code = object ? (body as Record<string, unknown>).error_code : undefined;
      const message = object ? (body as Record<string, unknown>).message : undefined;
      return {
        ok: false,
        failure: failure(
          typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : httpErrorCode(response.status),
          typeof message === 'string' ? message : `${operation}: HTTP ${response.status}`,
        ),
      };
    }
    if (!object) {
      return {
        ok: false,
        failure: failure(BANK_ERROR.BAD_RESPONSE, `${operation}: the answer is not a JSON object`),
      };
    }
    return { ok: true, body: body as Record<string, unknown> };
  }
}

function describe(error: unknown): string {
  const err = error as { message?: string; cause?: { code?: string; message?: string } };
  return [err?.message, err?.cause?.code ?? err?.cause?.message].filter(Boolean).join(': ');
}

function toWire(p: Payment) {
  return {
    disbursement_id: p.disbursementId,
    remitting_account: p.remittingAccount,
    remitting_account_currency: p.remittingAccountCurrency,
    payment_amount: p.paymentAmount,
    funds_blocked_reference_number: p.fundsBlockedReferenceNumber,
    beneficiary_id: p.beneficiaryId,
    beneficiary_name: p.beneficiaryName,
    beneficiary_account: p.beneficiaryAccount,
    beneficiary_account_currency: p.beneficiaryAccountCurrency,
    beneficiary_account_type: p.beneficiaryAccountType,
    beneficiary_bank_code: p.beneficiaryBankCode,
    beneficiary_branch_code: p.beneficiaryBranchCode,
    beneficiary_mobile_wallet_provider: p.beneficiaryMobileWalletProvider,
    beneficiary_phone_no: p.beneficiaryPhoneNo,
    beneficiary_email: p.beneficiaryEmail,
    beneficiary_email_wallet_provider: p.beneficiaryEmailWalletProvider,
    disbursement_narrative: p.disbursementNarrative,
    benefit_program_mnemonic: p.benefitProgramMnemonic,
    cycle_code_mnemonic: p.cycleCodeMnemonic,
    payment_date: p.paymentDate,
  };
}

/** The builtin `example` connector module. */
export const createExampleConnector: ConnectorModuleFactory = ({ bankCode, env }) =>
  new ExampleBankConnector(exampleConnectorSettings(bankCode, env));
