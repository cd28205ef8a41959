// The wallet-provider simulator's callbacks: a PUT of the batch's final representation to X-Callback-URL with
// the spec's headers, retried with a doubling wait when refused, and the callback faults (lost, duplicated,
// slowed down). The retry waits run on the simulator's clock, which the test moves: nothing here is timed.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, harness, ORG, openWallets, specValidator, txn } from './wallet-helpers.js';

const check = specValidator();

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let h: Harness;
let server: Server;
let url: string;
let received: Received[];
/** HTTP statuses the receiver answers with, one per request (then 204). */
let answers: number[];

beforeEach(async () => {
  received = [];
  answers = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = answers.shift() ?? 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callbacks/wallet`;
  h = await harness({ WALLET_SIMULATOR_CALLBACK_API_KEY: 'callback-key' });
  await h.sim.openAccount({ accountId: ORG, currency: 'USD', openingBalance: '100' });
});
afterEach(async () => {
  await h.close();
  await new Promise((resolve) => server.close(resolve));
});

async function sendBatch(correlation = randomUUID()) {
  const [a] = await openWallets(h.sim, 1, received.length + 1 + Math.floor(Math.random() * 1e6));
  const res = await h.api(
    'POST',
    '/batchtransactions',
    { transactions: [txn(a!, '10'), txn('+254799999999', '1')] },
    {
      'x-correlationid': correlation,
      'x-callback-url': url,
    },
  );
  expect(res.status).toBe(202);
  await h.sim.processNow();
  return { batchId: res.body.objectReference as string, correlation };
}

const later = (ms: number) => {
  h.clock.now = new Date(h.clock.now.getTime() + ms);
};

describe('callbacks', () => {
  it("PUTs the batch's final representation with the spec's headers", async () => {
    const { batchId, correlation } = await sendBatch();
    expect(await h.sim.deliverCallbacksNow()).toEqual({ delivered: 1, failed: 0, lost: 0 });
    expect(received).toHaveLength(1);
    const [cb] = received;
    const body = JSON.parse(cb!.body);
    if (check) expect(check('responseBatchTransaction', body)).toEqual([]);
    expect(body).toMatchObject({ batchId, batchStatus: 'completed', completedCount: 1, rejectionCount: 1 });
    expect(cb!.headers['x-correlationid']).toBe(correlation);
    expect(cb!.headers['x-api-key']).toBe('callback-key');
    expect(cb!.headers['x-content-hash']).toBe(createHash('sha256').update(cb!.body).digest('hex'));
    expect(cb!.headers['content-type']).toBe('application/json');
    expect(Date.parse(String(cb!.headers['x-date']))).not.toBeNaN();
    // Delivered once, never again.
    later(3_600_000);
    expect(await h.sim.deliverCallbacksNow()).toEqual({ delivered: 0, failed: 0, lost: 0 });
    expect((await h.sim.callbacks(batchId))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('retries a refused callback after a doubling wait, then gives up', async () => {
    const { batchId } = await sendBatch();
    answers = [500, 503, 500];
    expect((await h.sim.deliverCallbacksNow()).failed).toBe(1);
    // Not due again before the first wait (1 s) is over.
    later(999);
    expect(await h.sim.deliverCallbacksNow()).toEqual({ delivered: 0, failed: 0, lost: 0 });
    later(1);
    expect((await h.sim.deliverCallbacksNow()).failed).toBe(1);
    later(1_999);
    expect((await h.sim.deliverCallbacksNow()).failed).toBe(0);
    later(1);
    expect((await h.sim.deliverCallbacksNow()).failed).toBe(1);
    expect(received).toHaveLength(3);
    const [view] = await h.sim.callbacks(batchId);
    expect(view).toMatchObject({ status: 'abandoned', attempts: 3, lastError: 'HTTP 500' });
    // The outcome stays readable by polling.
    expect((await h.api('GET', `/batchtransactions/${batchId}`)).body.batchStatus).toBe('completed');
  });

  it('delivers on a later attempt once the receiver takes it', async () => {
    const { batchId } = await sendBatch();
    answers = [503];
    await h.sim.deliverCallbacksNow();
    later(1_000);
    expect((await h.sim.deliverCallbacksNow()).delivered).toBe(1);
    expect((await h.sim.callbacks(batchId))[0]).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(received[0]!.body).toBe(received[1]!.body);
  });

  it('loses, duplicates and slows callbacks when told to', async () => {
    h.sim.faults.loseCallbacks(1);
    const lost = await sendBatch();
    expect(await h.sim.deliverCallbacksNow()).toEqual({ delivered: 0, failed: 0, lost: 1 });
    expect(received).toHaveLength(0);
    later(3_600_000);
    await h.sim.deliverCallbacksNow();
    expect(received).toHaveLength(0);
    expect((await h.sim.callbacks(lost.batchId))[0]!.status).toBe('lost');

    h.sim.faults.duplicateCallbacks(1);
    await sendBatch();
    await h.sim.deliverCallbacksNow();
    expect(received).toHaveLength(2);
    expect(received[0]!.body).toBe(received[1]!.body);

    // A slow callback is held until the faults are reset (or the simulator stops).
    h.sim.faults.callbackDelay(3_600_000);
    await sendBatch();
    const pending = h.sim.deliverCallbacksNow();
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    h.sim.faults.reset();
    expect((await pending).delivered).toBe(1);
    expect(received).toHaveLength(3);
  });

  it('sends no callback for a request without X-Callback-URL (the client polls)', async () => {
    const [a] = await openWallets(h.sim, 1);
    const res = await h.api('POST', '/batchtransactions', { transactions: [txn(a!, '1')] });
    expect(res.body.notificationMethod).toBe('polling');
    await h.sim.processNow();
    expect(await h.sim.callbacks()).toEqual([]);
  });

  it('processes and calls back on its own once started', async () => {
    const started = await harness({ WALLET_SIMULATOR_PROCESS_INTERVAL_MS: '20' });
    try {
      await started.sim.openAccount({ accountId: ORG, currency: 'USD', openingBalance: '100' });
      const [a] = await openWallets(started.sim, 1);
      started.sim.start();
      const res = await started.api(
        'POST',
        '/batchtransactions',
        { transactions: [txn(a!, '1')] },
        { 'x-callback-url': url },
      );
      // Waits for the outcome, however long it takes; the test's own timeout is the only limit.
      while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(JSON.parse(received[0]!.body).batchId).toBe(res.body.objectReference);
    } finally {
      await started.close();
    }
  });
});
