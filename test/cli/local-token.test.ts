import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { mintLocalToken } from '../../src/cli/local-token.js';
import { loadConfig } from '../../src/config/index.js';

describe('tokens the CLI mints for itself', () => {
  it('carry the configured issuer and audience, so a bridge that requires them accepts them', async () => {
    const config = loadConfig({
      JWT_SECRET: 'cli-secret-0123456789abcdef',
      JWT_ISSUER: 'https://idp',
      JWT_AUDIENCE: 'g2p',
    });
    const claims = decodeJwt(await mintLocalToken(config, { roles: ['admin', 'pbms'], subject: 'demo' }));
    expect(claims).toMatchObject({ iss: 'https://idp', aud: 'g2p', sub: 'demo', roles: ['admin', 'pbms'] });
  });
});
