import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BankConnectorConfigError,
  createConnectorRegistry,
  parseBankConnectors,
} from '../../src/bank/index.js';
import { createLogger } from '../../src/logger.js';
import { unusedPort } from './harness.js';

const log = createLogger('silent');
/** The repository root: relative module paths in BANK_CONNECTORS resolve against the working directory. */
const root = fileURLToPath(new URL('../../', import.meta.url));

describe('BANK_CONNECTORS parsing', () => {
  it('reads builtin, path and package entries', () => {
    expect(
      parseBankConnectors(' EXAMPLE=builtin:example, ACME=./connectors/acme.js,BETA=@bank/beta-connector '),
    ).toEqual([
      { bankCode: 'EXAMPLE', target: 'builtin:example' },
      { bankCode: 'ACME', target: './connectors/acme.js' },
      { bankCode: 'BETA', target: '@bank/beta-connector' },
    ]);
  });

  it.each([
    ['EXAMPLE', /not CODE=connector/],
    ['=builtin:example', /not CODE=connector/],
    ['A=builtin:nope', /not a builtin connector.*builtin:example/],
    ['A=builtin:example,A=builtin:example', /named twice/],
    ['BAD CODE=builtin:example', /may only hold/],
    [' , ', /no connector is configured/],
  ])('refuses %j', (spec, message) => {
    expect(() => parseBankConnectors(spec)).toThrowError(BankConnectorConfigError);
    expect(() => parseBankConnectors(spec)).toThrowError(message);
  });
});

describe('connector registry', () => {
  it('defaults to the example connector for EXAMPLE', async () => {
    const registry = await createConnectorRegistry({ env: {}, log });
    expect(registry.codes()).toEqual(['EXAMPLE']);
    expect(registry.getBankConnector('EXAMPLE').bankCode).toBe('EXAMPLE');
    await registry.close();
  });

  it('answers an unknown sponsor bank code with a configuration error naming the known ones', async () => {
    const registry = await createConnectorRegistry({
      env: { BANK_CONNECTORS: 'EXAMPLE=builtin:example' },
      log,
    });
    expect(registry.has('NOBANK')).toBe(false);
    let error: unknown;
    try {
      registry.getBankConnector('NOBANK');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BankConnectorConfigError);
    expect((error as BankConnectorConfigError).code).toBe('UNKNOWN_SPONSOR_BANK_CODE');
    expect((error as Error).message).toMatch(/'NOBANK'.*EXAMPLE/);
  });

  it('loads a connector from a separate module named only in configuration', async () => {
    const port = await unusedPort();
    const registry = await createConnectorRegistry({
      env: {
        BANK_CONNECTORS: 'EXAMPLE=builtin:example,ACME=./test/fixtures/connectors/acme-bank.js',
        ACME_BANK_URL: `http://127.0.0.1:${port}`,
        ACME_BANK_TIMEOUT_MS: '2000',
      },
      log,
      cwd: root,
    });
    expect(registry.codes().sort()).toEqual(['ACME', 'EXAMPLE']);
    const acme = registry.getBankConnector('ACME');
    expect(acme.bankCode).toBe('ACME');
    // Its own statement conventions ...
    expect(acme.retrieveDisbursementId('ACME123', 'D0001', ['NAME Ana Lima', 'RTN ACCOUNT_CLOSED'])).toBe(
      'D0001',
    );
    expect(acme.retrieveBeneficiaryName(['NAME Ana Lima'])).toBe('Ana Lima');
    expect(acme.retrieveReversalReason(['NAME Ana Lima', 'RTN ACCOUNT_CLOSED'])).toBe('ACCOUNT_CLOSED');
    // ... and its own transport, failing softly when Acme is not there.
    expect(await acme.checkFunds('ACC', 'USD', '10.00')).toMatchObject({
      status: 'FAILURE',
      errorCode: 'BANK_UNAVAILABLE',
    });
    await registry.close();
  });

  it('resolves an absolute module path too', async () => {
    const path = fileURLToPath(new URL('../fixtures/connectors/acme-bank.js', import.meta.url));
    const registry = await createConnectorRegistry({
      env: { BANK_CONNECTORS: `ACME=${path}`, ACME_BANK_URL: 'http://127.0.0.1:9' },
      log,
    });
    expect(registry.getBankConnector('ACME').bankCode).toBe('ACME');
  });

  it.each([
    ['ACME=./test/fixtures/connectors/missing.js', /ACME=.*cannot load the module/],
    ['ACME=@nobody/no-such-connector', /ACME=.*cannot load the module/],
    ['ACME=./test/fixtures/connectors/not-a-connector.js', /lacks blockFunds, initiatePayment/],
    ['ACME=./test/fixtures/connectors/acme-bank.js', /ACME_BANK_URL is not set/],
    ['ACME=./src/logger.js', /exports neither a default function nor createConnector/],
  ])('stops at start on %s', async (spec, message) => {
    const attempt = createConnectorRegistry({ env: { BANK_CONNECTORS: spec }, log, cwd: root });
    await expect(attempt).rejects.toThrowError(BankConnectorConfigError);
    await expect(attempt).rejects.toMatchObject({ code: 'BANK_CONNECTORS_INVALID' });
    await expect(
      createConnectorRegistry({ env: { BANK_CONNECTORS: spec }, log, cwd: root }),
    ).rejects.toThrowError(message);
  });

  it('reports a bad example bank setting at start', async () => {
    await expect(
      createConnectorRegistry({ env: { EXAMPLE_BANK_URL: 'not a url' }, log }),
    ).rejects.toThrowError(/EXAMPLE_BANK_URL is not a URL/);
  });

  it('turns a connector that throws into failures, never exceptions', async () => {
    const registry = await createConnectorRegistry({
      env: { BANK_CONNECTORS: 'BUGGY=./test/fixtures/connectors/throwing.js' },
      log,
      cwd: root,
    });
    const buggy = registry.getBankConnector('BUGGY');
    expect(await buggy.checkFunds('A', 'USD', '1.00')).toMatchObject({
      status: 'FAILURE',
      errorCode: 'BANK_CONNECTOR_ERROR',
    });
    expect(await buggy.blockFunds('A', 'USD', '1.00', 'K')).toMatchObject({
      errorCode: 'BANK_CONNECTOR_ERROR',
    });
    expect(await buggy.initiatePayment('B', [])).toMatchObject({ errorCode: 'BANK_CONNECTOR_ERROR' });
    expect(buggy.retrieveDisbursementId(null, 'X', [])).toBeNull();
    expect(buggy.retrieveBeneficiaryName([])).toBe('A name');
    expect(buggy.retrieveReversalReason([])).toBeNull();
  });
});
