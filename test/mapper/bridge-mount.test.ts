import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { mapperClientFromConfig } from '../../src/mapper/index.js';
import { createMapperSimulator, type MapperSimulator } from '../../src/simulators/mapper/index.js';
import { type TestApp, testApp } from '../support/app.js';
import { g2pBody, silentLog } from './helpers.js';

// Inside `start` the simulator shares the bridge's server (JWT auth, error handler, multipart) under /mapper.
describe('mapper simulator mounted in the bridge server', () => {
  let t: TestApp;
  let sim: MapperSimulator;

  beforeAll(async () => {
    t = await testApp({}, [
      async (app, ctx) => {
        sim = await createMapperSimulator({
          db: ctx.db,
          log: ctx.log,
          config: { MAPPER_SIMULATOR_CSV: undefined },
        });
        await sim.register(app, '/mapper');
      },
    ]);
  });
  afterAll(async () => {
    await sim.stop();
    await t.close();
  });

  it('serves its routes without a token, next to JWT-protected bridge routes', async () => {
    const csv = await t.app.inject({
      method: 'POST',
      url: '/mapper/admin/entries/csv',
      headers: { 'content-type': 'text/csv' },
      payload: 'id,fa,name\nM1,account:5@nb,Five\n',
    });
    expect(csv.json()).toEqual({ loaded: 1, total: 1, active: 1 });
    const res = await t.app.inject({
      method: 'POST',
      url: '/mapper/sync/resolve',
      payload: g2pBody(
        'resolve',
        { transaction_id: 't', resolve_request: [{ reference_id: 'a', id: 'M1' }] },
        1,
      ),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().message.resolve_response[0]).toMatchObject({ fa: 'account:5@nb', name: 'Five' });
    const invalid = await t.app.inject({
      method: 'POST',
      url: '/mapper/sync/resolve',
      payload: { header: {} },
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().header.status).toBe('rjct');
  });

  it('is what the default MAPPER_URL points at', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.address() as { port: number }).port;
    const client = mapperClientFromConfig(loadConfig({ PORT: String(port) }), silentLog);
    expect(await client.resolve([{ referenceId: 'r', beneficiaryId: 'M1' }])).toMatchObject([
      {
        referenceId: 'r',
        resolved: true,
        address: { faType: 'BANK_ACCOUNT', accountNumber: '5', bankCode: 'nb' },
      },
    ]);
    expect(() => mapperClientFromConfig(loadConfig({ MAPPER_URL: 'mapper.local' }), silentLog)).toThrow(
      /MAPPER_URL must be an http\(s\) URL/,
    );
  });
});
