import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  createMapperClient,
  type MapperClient,
  MapperTransportError,
  mapperClientFromConfig,
  type ResolveItem,
} from '../../src/mapper/index.js';
import { type RunningSimulator, runSimulator, silentLog } from './helpers.js';

const BANK = (n: string) =>
  `account_number:${n}.branch_code:BR01.bank_code:EXAMPLE_BANK.mobile_number:.email_address:.fa_type:BANK_ACCOUNT`;

async function transportError(promise: Promise<unknown>): Promise<MapperTransportError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MapperTransportError);
  return error as MapperTransportError;
}

/** A one-route HTTP server that answers every request with the given status and raw body. */
async function rawServer(status: number, body: string | ((request: string) => string)): Promise<Server> {
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : body(text));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('mapper client against the simulator', () => {
  let s: RunningSimulator;
  let client: MapperClient;

  beforeAll(async () => {
    s = await runSimulator();
    client = createMapperClient({ url: s.url, timeoutMs: 2000, log: silentLog });
    await s.sim.link([
      { id: 'B1', fa: BANK('1001'), name: 'Amina Wanjiru' },
      { id: 'B2', fa: 'mobile:+254700000002@mpesa', name: 'Baraka Otieno' },
      { id: 'B3', fa: 'email:chege@example.org@paymail' },
      { id: 'B4', fa: 'this is not an address' },
      { id: 'B5', fa: BANK('1005') },
    ]);
    await s.sim.unlink([{ id: 'B5' }]);
  });
  afterAll(async () => s.close());
  afterEach(() => s.sim.faults.reset());

  it('resolves known ids, reports unknown ones, and matches answers by reference id', async () => {
    // Unknown ids interleaved: the simulator answers known ids first, so positions differ from the request.
    const items: ResolveItem[] = [
      { referenceId: 'd1', beneficiaryId: 'NOPE-1' },
      { referenceId: 'd2', beneficiaryId: 'B1' },
      { referenceId: 'd3', beneficiaryId: 'NOPE-2' },
      { referenceId: 'd4', beneficiaryId: 'B2' },
      { referenceId: 'd5', beneficiaryId: 'B3' },
      { referenceId: 'd6', beneficiaryId: 'B4' },
      { referenceId: 'd7', beneficiaryId: 'B5' },
      { referenceId: 'd8', beneficiaryId: 'B1' }, // same beneficiary twice in one batch
    ];
    const outcomes = await client.resolve(items);
    expect(outcomes.map((o) => o.referenceId)).toEqual(items.map((i) => i.referenceId));
    expect(outcomes).toEqual([
      { referenceId: 'd1', beneficiaryId: 'NOPE-1', resolved: false, reason: 'succ.id.not_found' },
      {
        referenceId: 'd2',
        beneficiaryId: 'B1',
        resolved: true,
        fa: BANK('1001'),
        name: 'Amina Wanjiru',
        address: {
          faType: 'BANK_ACCOUNT',
          accountNumber: '1001',
          branchCode: 'BR01',
          bankCode: 'EXAMPLE_BANK',
        },
      },
      { referenceId: 'd3', beneficiaryId: 'NOPE-2', resolved: false, reason: 'succ.id.not_found' },
      {
        referenceId: 'd4',
        beneficiaryId: 'B2',
        resolved: true,
        fa: 'mobile:+254700000002@mpesa',
        name: 'Baraka Otieno',
        address: { faType: 'MOBILE_WALLET', mobileNumber: '+254700000002', walletProvider: 'mpesa' },
      },
      {
        referenceId: 'd5',
        beneficiaryId: 'B3',
        resolved: true,
        fa: 'email:chege@example.org@paymail',
        address: {
          faType: 'EMAIL_WALLET',
          emailAddress: 'chege@example.org',
          emailWalletProvider: 'paymail',
        },
      },
      { referenceId: 'd6', beneficiaryId: 'B4', resolved: false, reason: 'FA_UNPARSEABLE' },
      { referenceId: 'd7', beneficiaryId: 'B5', resolved: false, reason: 'succ.fa.not_linked_to_id' },
      expect.objectContaining({ referenceId: 'd8', beneficiaryId: 'B1', resolved: true, fa: BANK('1001') }),
    ]);
  });

  it('sends one request for a large batch', async () => {
    const n = 10_000;
    await s.sim.link(
      Array.from({ length: n }, (_, i) => ({ id: `L${i}`, fa: `account:${i}@bank-${i % 7}` })),
    );
    let calls = 0;
    const counting = createMapperClient({
      url: s.url,
      timeoutMs: 30_000,
      log: silentLog,
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    const items = Array.from({ length: n }, (_, i) => ({
      referenceId: `r${n - i}`,
      beneficiaryId: `L${n - 1 - i}`,
    }));
    const outcomes = await counting.resolve(items);
    expect(calls).toBe(1);
    expect(outcomes.every((o) => o.resolved)).toBe(true);
    expect(outcomes[0]).toMatchObject({ referenceId: `r${n}`, address: { accountNumber: String(n - 1) } });
    expect(outcomes[n - 1]).toMatchObject({
      referenceId: 'r1',
      address: { accountNumber: '0', bankCode: 'bank-0' },
    });
  });

  it('makes no call for an empty batch', async () => {
    s.sim.faults.failNext(1);
    expect(await client.resolve([])).toEqual([]);
    expect(s.sim.faults.state().failNext).toBe(1);
  });

  it('turns HTTP 5xx into a transport error, and recovers after the failures', async () => {
    s.sim.faults.failNext(2, 'error');
    const items = [{ referenceId: 'x', beneficiaryId: 'B1' }];
    expect((await transportError(client.resolve(items))).code).toBe('MAPPER_HTTP_500');
    expect((await transportError(client.resolve(items))).code).toBe('MAPPER_HTTP_500');
    expect((await client.resolve(items))[0]?.resolved).toBe(true);
  });

  it('times out on a hanging mapper', async () => {
    const quick = createMapperClient({ url: s.url, timeoutMs: 200, log: silentLog });
    const items = [{ referenceId: 'x', beneficiaryId: 'B1' }];
    s.sim.faults.failNext(1, 'hang');
    const hung = await transportError(quick.resolve(items));
    expect(hung.code).toBe('MAPPER_TIMEOUT');
    expect(hung.message).toContain('200 ms');
    // the simulator lets go of the held call once the client has left
    await vi.waitFor(() => expect(s.sim.faults.waiting).toBe(0), { timeout: 30_000, interval: 20 });
  });

  // The slow mapper on a fake clock: how fast this machine is decides nothing. The injected fetch answers
  // after `answerAfter` ms of that clock, or sends its head at once and the body then (`stallBody`).
  describe('on a fake clock', () => {
    const items = [{ referenceId: 'x', beneficiaryId: 'B1' }];
    const answer = JSON.stringify({
      header: { status: 'succ' },
      message: { resolve_response: [{ reference_id: 'x', id: 'B1', fa: 'account:1@nb', status: 'succ' }] },
    });
    const aborted = (signal: AbortSignal | null | undefined) =>
      new Promise<never>((_, reject) =>
        signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    const slowMapper = (answerAfter: number, stallBody = false): typeof fetch =>
      (async (_input: unknown, init?: RequestInit) => {
        const later = new Promise<void>((r) => setTimeout(r, answerAfter));
        if (!stallBody) {
          await Promise.race([later, aborted(init?.signal)]);
          return new Response(answer, { status: 200 });
        }
        const body = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode(answer.slice(0, 10)));
            await Promise.race([later, aborted(init?.signal)]).catch((e: unknown) => controller.error(e));
            if (!init?.signal?.aborted) {
              controller.enqueue(new TextEncoder().encode(answer.slice(10)));
              controller.close();
            }
          },
        });
        return new Response(body, { status: 200 });
      }) as typeof fetch;
    const settled = <T>(p: Promise<T>) => {
      const state: { done: boolean; value?: T; error?: unknown } = { done: false };
      p.then(
        (value) => Object.assign(state, { done: true, value }),
        (error: unknown) => Object.assign(state, { done: true, error }),
      );
      return state;
    };

    beforeAll(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    });
    afterAll(() => {
      vi.useRealTimers();
    });

    it('reads an answer that comes just before the deadline', async () => {
      const c = createMapperClient({
        url: 'http://mapper.test',
        timeoutMs: 200,
        log: silentLog,
        fetch: slowMapper(199),
      });
      const call = settled(c.resolve(items));
      await vi.advanceTimersByTimeAsync(198);
      expect(call.done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await vi.waitFor(() => expect(call.done).toBe(true));
      expect(call.error).toBeUndefined();
      expect(call.value?.[0]).toMatchObject({ referenceId: 'x', resolved: true });
    });

    it.each([
      ['an answer that comes at the deadline', false],
      ['an answer whose body stalls past the deadline', true],
    ])('gives up on %s: MAPPER_TIMEOUT', async (_label, stallBody) => {
      const c = createMapperClient({
        url: 'http://mapper.test',
        timeoutMs: 200,
        log: silentLog,
        fetch: slowMapper(1_000, stallBody),
      });
      const call = settled(c.resolve(items));
      await vi.advanceTimersByTimeAsync(199);
      expect(call.done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await vi.waitFor(() => expect(call.done).toBe(true));
      expect(call.error).toBeInstanceOf(MapperTransportError);
      expect((call.error as MapperTransportError).code).toBe('MAPPER_TIMEOUT');
    });
  });

  it('reports a truncated answer as malformed', async () => {
    s.sim.faults.failNext(1, 'malformed');
    const error = await transportError(client.resolve([{ referenceId: 'x', beneficiaryId: 'B1' }]));
    expect(error.code).toBe('MAPPER_BAD_RESPONSE');
  });

  it('is built from the environment', async () => {
    const fromEnv = mapperClientFromConfig(
      loadConfig({ MAPPER_URL: `${s.url}/`, MAPPER_TIMEOUT_MS: '5000' }),
      silentLog,
    );
    expect((await fromEnv.resolve([{ referenceId: 'x', beneficiaryId: 'B2' }]))[0]).toMatchObject({
      resolved: true,
      address: { faType: 'MOBILE_WALLET' },
    });
    const custom = mapperClientFromConfig(
      loadConfig({
        MAPPER_URL: s.url,
        MAPPER_FA_PATTERNS: JSON.stringify([
          { faType: 'MOBILE_WALLET', pattern: '^mobile:(?<mobile_number>\\d+)@' },
        ]),
      }),
      silentLog,
    );
    // +254... does not fit the custom pattern (digits only): unparseable
    expect((await custom.resolve([{ referenceId: 'x', beneficiaryId: 'B2' }]))[0]).toMatchObject({
      resolved: false,
      reason: 'FA_UNPARSEABLE',
    });
    expect(() => mapperClientFromConfig(loadConfig({ MAPPER_TIMEOUT_MS: 'soon' }), silentLog)).toThrow(
      /MAPPER_TIMEOUT_MS/,
    );
  });
});

describe('mapper client transport failures without the simulator', () => {
  const items = [
    { referenceId: 'r1', beneficiaryId: 'A' },
    { referenceId: 'r2', beneficiaryId: 'B' },
  ];

  it('reports a refused connection', async () => {
    const server = await rawServer(200, '{}');
    const url = urlOf(server);
    await closeServer(server); // the port is now unused
    const client = createMapperClient({ url, timeoutMs: 2000, log: silentLog });
    expect((await transportError(client.resolve(items))).code).toBe('MAPPER_UNAVAILABLE');
  });

  it.each([
    ['malformed JSON', 200, '{"message": {"resolve_response": [', 'MAPPER_BAD_RESPONSE'],
    ['a JSON answer of the wrong shape', 200, '{"message": {}}', 'MAPPER_BAD_RESPONSE'],
    ['a non-object item', 200, '{"message": {"resolve_response": [42]}}', 'MAPPER_BAD_RESPONSE'],
    [
      'a rejected request',
      200,
      '{"header": {"status": "rjct", "status_reason_code": "rjct.version.invalid"}}',
      'MAPPER_REJECTED',
    ],
    [
      'a pending synchronous answer',
      200,
      '{"message": {"resolve_response": [{"reference_id": "r1", "status": "pdng"}]}}',
      'MAPPER_PENDING',
    ],
    ['HTTP 503', 503, 'down for maintenance', 'MAPPER_HTTP_503'],
    ['HTTP 400', 400, '{}', 'MAPPER_HTTP_400'],
  ])('reports %s', async (_label, status, body, code) => {
    const server = await rawServer(status, body);
    try {
      const client = createMapperClient({ url: urlOf(server), timeoutMs: 2000, log: silentLog });
      expect((await transportError(client.resolve(items))).code).toBe(code);
    } finally {
      await closeServer(server);
    }
  });

  it('sends the G2P Connect resolve request and reads item-level answers of every kind', async () => {
    interface SeenBody {
      header: Record<string, unknown>;
      message: { transaction_id: unknown; resolve_request: Record<string, unknown>[] };
    }
    let seen: { url?: string; body?: SeenBody } = {};
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => {
        text += c;
      });
      req.on('end', () => {
        seen = { url: req.url, body: JSON.parse(text) };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            header: { status: 'succ' },
            message: {
              resolve_response: [
                // matched by id: this mapper does not echo reference ids
                { id: 'D', fa: 'account:4@nb', status: 'succ' },
                {
                  reference_id: 'r3',
                  id: 'C',
                  fa: null,
                  status: 'rjct',
                  status_reason_code: 'rjct.id.invalid',
                },
                {
                  reference_id: 'r1',
                  id: 'A',
                  fa: 'account:1@nb',
                  status: 'succ',
                  status_reason_code: 'succ.fa.active',
                },
                {
                  reference_id: 'r2',
                  id: 'B',
                  fa: 'account:2@nb',
                  status: 'succ',
                  status_reason_code: 'succ.fa.inactive',
                },
                { reference_id: 'r5', id: 'E', fa: null, status: 'succ' },
                { reference_id: 'r6', id: 'F', fa: 'account:6@nb' }, // no status at all
                { reference_id: 'r7', id: 'G', status: 'rjct' },
                { reference_id: 'unasked', id: 'Z', fa: 'account:9@nb', status: 'succ' },
                { reference_id: 'r9', id: 'SOMEONE-ELSE', fa: 'account:9@nb', status: 'succ' },
              ],
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = createMapperClient({
        url: `${urlOf(server)}/spar/v1`,
        timeoutMs: 2000,
        log: silentLog,
        senderId: 'bridge-x',
      });
      const asked = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I'].map((id, i) => ({
        referenceId: `r${i + 1}`,
        beneficiaryId: id,
      }));
      const outcomes = await client.resolve(asked);
      expect(seen.url).toBe('/spar/v1/sync/resolve');
      expect(seen.body?.header).toMatchObject({ action: 'resolve', sender_id: 'bridge-x', total_count: 9 });
      expect(seen.body?.message.resolve_request[0]).toMatchObject({
        reference_id: 'r1',
        id: 'A',
        scope: 'details',
      });
      expect(typeof seen.body?.message.transaction_id).toBe('string');
      expect(outcomes.map((o) => (o.resolved ? `ok:${o.address.accountNumber}` : o.reason))).toEqual([
        'ok:1',
        'succ.fa.inactive',
        'rjct.id.invalid',
        'ok:4',
        'FA_MISSING',
        'ok:6',
        'rjct',
        'NOT_IN_RESPONSE',
        'ID_MISMATCH',
      ]);
    } finally {
      await closeServer(server);
    }
  });
});
