// The wiring of the example bank's SFTP face: customers from configuration, the bridge's client key kept in
// DATA_DIR, and the connector environment that `start` derives for EXAMPLE_BANK_CHANNEL=sftp.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBankConnectors } from '../../src/bank/index.js';
import { sftpConnectorSettings } from '../../src/bank/sftp/connector.js';
import { generateSshKeyPair } from '../../src/sftp/server.js';
import {
  bridgeClientKey,
  exampleBankSftpSettings,
  parseSftpCustomers,
  sftpConnectorEnv,
} from '../../src/simulators/example-bank/sftp/setup.js';

const dir = mkdtempSync(join(tmpdir(), 'sftp-setup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('example bank SFTP wiring', () => {
  it('reads customers as user=/path/key.pub and names every bad entry', () => {
    const pub = join(dir, 'acme.pub');
    writeFileSync(pub, `# acme\n${generateSshKeyPair().public}\n`);
    const [acme] = parseSftpCustomers(`acme=${pub}`);
    expect(acme!.username).toBe('acme');
    expect(acme!.authorizedKeys).toHaveLength(1);
    expect(acme!.authorizedKeys[0]).toMatch(/^ssh-ed25519 /);
    expect(() => parseSftpCustomers(`=x,bad user=${pub},ghost=${join(dir, 'none.pub')}`)).toThrow(
      /"=x".*"bad user=.*ghost:/,
    );
    expect(parseSftpCustomers(undefined)).toEqual([]);
  });

  it('keeps the bridge client key in DATA_DIR across restarts, private to its owner', () => {
    const a = bridgeClientKey(dir);
    const b = bridgeClientKey(dir);
    expect(b).toEqual(a);
    expect(statSync(a.privateKeyFile).mode & 0o077).toBe(0);
    expect(readFileSync(a.privateKeyFile, 'utf8')).toContain('PRIVATE KEY');
  });

  it('puts the example bank code on builtin:iso20022-sftp with the face pinned, other banks untouched', () => {
    const key = bridgeClientKey(dir);
    const env = sftpConnectorEnv(
      {
        BANK_CONNECTORS: 'EXAMPLE=builtin:example,OTHER=./other.js',
        SFTP_EXAMPLE_PORT: '22',
        SFTP_EXAMPLE_HOST_KEY: 'SHA256:stale',
        SFTP_EXAMPLE_DEBTOR_NAME: 'Ministry',
      },
      'EXAMPLE',
      { host: '127.0.0.1', port: 2222, hostPublicKey: key.publicKey, privateKeyFile: key.privateKeyFile },
    );
    expect(parseBankConnectors(env.BANK_CONNECTORS!).map((e) => [e.bankCode, e.target])).toEqual([
      ['OTHER', './other.js'],
      ['EXAMPLE', 'builtin:iso20022-sftp'],
    ]);
    const settings = sftpConnectorSettings('EXAMPLE', env);
    expect(settings).toMatchObject({
      host: '127.0.0.1',
      port: 2222,
      username: 'bridge',
      hostKey: key.publicKey,
      outbound: '/to-bank',
      inbound: '/from-bank',
      funds: 'at-bank',
    });
    expect(settings.pain001.debtorName).toBe('Ministry');
  });

  it('defaults its folders and host key under DATA_DIR', () => {
    const s = exampleBankSftpSettings({
      DATA_DIR: dir,
      EXAMPLE_BANK_SFTP_PORT: 0,
      EXAMPLE_BANK_SFTP_DIR: undefined,
      EXAMPLE_BANK_SFTP_HOST_KEY_FILE: undefined,
      EXAMPLE_BANK_SFTP_CUSTOMERS: undefined,
    });
    expect(s).toMatchObject({
      dir: join(dir, 'bank-sftp'),
      hostKeyFile: join(dir, 'bank-sftp', 'ssh_host_ed25519_key'),
      port: 0,
      customers: [],
    });
  });
});
