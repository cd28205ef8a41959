// A connector declares what its bank can carry (issue 9 §5); the bridge fills in the defaults and checks items.
import { describe, expect, it } from 'vitest';
import {
  amountProblem,
  DEFAULT_CONNECTOR_LIMITS,
  LIMIT_CODE,
  referenceProblem,
  resolveLimits,
} from '../../src/bank/limits.js';
import { bankLimitsSource, createConnectorRegistry, guardConnector } from '../../src/bank/registry.js';
import { createLogger } from '../../src/logger.js';

const log = createLogger('silent');

describe('connector limits', () => {
  it('fills what a connector leaves out with the defaults and refuses nonsense', () => {
    expect(resolveLimits(undefined)).toBe(DEFAULT_CONNECTOR_LIMITS);
    expect(resolveLimits({ maxReferenceLength: 16 })).toMatchObject({
      maxReferenceLength: 16,
      maxAmountDigits: 14,
    });
    expect(() => resolveLimits({ maxReferenceLength: 0 })).toThrow(/maxReferenceLength/);
    expect(() => resolveLimits({ referencePattern: '^x$' as unknown as RegExp })).toThrow(/RegExp/);
  });

  it('checks a reference by length and characters, and an amount by its written digits', () => {
    const limits = resolveLimits({ maxReferenceLength: 10, referencePattern: /^[A-Z0-9]+$/ });
    expect(referenceProblem(limits, 'ABC123')).toBeNull();
    expect(referenceProblem(limits, 'A'.repeat(11))).toBe(LIMIT_CODE.REFERENCE_TOO_LONG);
    expect(referenceProblem(limits, 'abc')).toBe(LIMIT_CODE.REFERENCE_CHARACTERS);
    // 2 decimals: 999,999,999,999.99 is 14 digits, 1,000,000,000,000.00 is 15.
    expect(amountProblem(limits, 99_999_999_999_999n, 2)).toBeNull();
    expect(amountProblem(limits, 100_000_000_000_000n, 2)).toBe(LIMIT_CODE.AMOUNT_TOO_LARGE);
    // 0 decimals (JPY): 14 digits and the comma fit.
    expect(amountProblem(limits, 999_999_999_999_999n, 0)).toBe(LIMIT_CODE.AMOUNT_TOO_LARGE);
    expect(amountProblem(limits, 99_999_999_999_999n, 0)).toBeNull();
  });

  it('is exposed through the registry guard and read by the API source', async () => {
    const registry = await createConnectorRegistry({
      env: { BANK_CONNECTORS: 'EXAMPLE=builtin:example' },
      log,
    });
    expect(registry.getBankConnector('EXAMPLE').limits).toMatchObject({ maxReferenceLength: 35 });
    await registry.close();
    const guarded = guardConnector({ bankCode: 'X' } as never, log);
    expect(guarded.limits).toEqual(DEFAULT_CONNECTOR_LIMITS);
    const source = bankLimitsSource({ spec: 'EXAMPLE=builtin:example', env: {}, log });
    expect((await source('EXAMPLE')).maxReferenceLength).toBe(35);
    expect(await source('OTHER')).toBe(DEFAULT_CONNECTOR_LIMITS);
    const broken = bankLimitsSource({ spec: 'X=./no/such/module.js', env: {}, log });
    expect(await broken('X')).toBe(DEFAULT_CONNECTOR_LIMITS);
  });

  it('stops the start when a connector declares limits that make no sense', async () => {
    await expect(
      createConnectorRegistry({
        env: { BANK_CONNECTORS: 'BAD=./test/fixtures/connectors/bad-limits.js' },
        log,
      }),
    ).rejects.toThrow(/maxAmountDigits/);
  });
});
