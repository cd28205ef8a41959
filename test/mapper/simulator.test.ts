import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CsvLoadError } from '../../src/simulators/mapper/index.js';
import { g2pBody, type RunningSimulator, runSimulator } from './helpers.js';

describe('mapper simulator', () => {
  let s: RunningSimulator;
  const post = (path: string, payload: unknown) =>
    s.app.inject({ method: 'POST', url: `/mapper${path}`, payload: payload as object });
  const resolve = async (ids: string[], scope = 'details') => {
    const res = await post(
      '/sync/resolve',
      g2pBody(
        'resolve',
        {
          transaction_id: 't1',
          resolve_request: ids.map((id, i) => ({ reference_id: `r${i}`, timestamp: 'now', id, scope })),
        },
        ids.length,
      ),
    );
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  beforeAll(async () => {
    s = await runSimulator();
  });
  afterAll(async () => s.close());
  beforeEach(async () => {
    await s.sim.store.clear();
    s.sim.faults.reset();
  });

  describe('CSV load', () => {
    it('loads quoted fields in any column order; the last row for an id wins', async () => {
      const csv = [
        'name,ID,fa',
        '"Doe, Jane",P1,"account_number:1.branch_code:B.bank_code:C.mobile_number:.email_address:.fa_type:BANK_ACCOUNT"',
        'Otieno,P2,mobile:+254700000002@mpesa',
        ',P3,"email:a@b.c"',
        'Jane Doe,P1,account:2@nb',
      ].join('\n');
      expect(await s.sim.loadCsv(csv)).toBe(4);
      const { entries } = await s.sim.list();
      expect(entries).toEqual([
        { id: 'P1', fa: 'account:2@nb', name: 'Jane Doe', active: true },
        { id: 'P2', fa: 'mobile:+254700000002@mpesa', name: 'Otieno', active: true },
        { id: 'P3', fa: 'email:a@b.c', name: null, active: true },
      ]);
    });

    it('streams a large file in chunks, duplicates across chunks included', async () => {
      const n = 12_000;
      async function* generate() {
        yield 'id,fa,name,active\n';
        for (let i = 0; i < n; i += 1000) {
          let block = '';
          for (let k = i; k < i + 1000; k++)
            block += `ID${k},account:${k}@bank,Person ${k},${k % 10 === 0 ? 'false' : 'true'}\n`;
          yield Buffer.from(block);
        }
        yield 'ID5,account:replaced@bank,Last,true\n'; // a repeat after the first chunk was written
      }
      expect(await s.sim.loadCsv(Readable.from(generate()))).toBe(n + 1);
      expect(await s.sim.store.counts()).toEqual({ total: n, active: n - n / 10 });
      expect((await s.sim.store.lookup(['ID5'])).get('ID5')).toMatchObject({
        fa: 'account:replaced@bank',
        name: 'Last',
      });
    });

    it.each([
      ['', /CSV is empty/],
      ['id,name\nA,x', /must name the columns id and fa/],
      ['id,fa,phone\nA,x,1', /unknown column\(s\) phone/],
      ['id,fa,id\nA,x,B', /column id appears twice/],
      ['id,fa\nA,account:1@b\n,account:2@b', /line 3: id is empty/],
      ['id,fa\nA, ', /line 2: fa is empty/],
      ['id,fa,active\nA,x,maybe', /line 2: active must be true or false/],
      ['id,fa\nA,"x', /line 2: a quoted field is not closed/],
    ])('rejects %j and writes nothing', async (csv, message) => {
      await s.sim.link([{ id: 'KEEP', fa: 'account:0@b' }]);
      const error = await s.sim.loadCsv(`${csv}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CsvLoadError);
      expect((error as Error).message).toMatch(message);
      expect((await s.sim.list()).entries.map((e) => e.id)).toEqual(['KEEP']);
    });

    it('loads over HTTP as text/csv', async () => {
      const res = await s.app.inject({
        method: 'POST',
        url: '/mapper/admin/entries/csv',
        headers: { 'content-type': 'text/csv' },
        payload: 'id,fa,name\nH1,account:1@b,One\nH2,account:2@b,Two\n',
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ loaded: 2, total: 2, active: 2 });
      const bad = await s.app.inject({
        method: 'POST',
        url: '/mapper/admin/entries/csv',
        headers: { 'content-type': 'text/csv' },
        payload: 'id,fa\nH3,"oops\n',
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'INVALID_CSV' });
      const json = await post('/admin/entries/csv', { csv: 'id,fa' });
      expect(json.statusCode).toBe(415);
    });
  });

  describe('resolve, link and unlink over HTTP', () => {
    it('links, resolves, unlinks and relinks', async () => {
      const linked = await post(
        '/sync/link',
        g2pBody(
          'link',
          {
            transaction_id: 't-link',
            link_request: [
              { reference_id: 'l1', timestamp: 'now', id: 'K1', fa: 'account:11@nb', name: 'Kamau' },
              { reference_id: 'l2', timestamp: 'now', id: 'K2', fa: 'mobile:0722@mpesa' },
            ],
          },
          2,
        ),
      );
      expect(linked.statusCode).toBe(200);
      expect(linked.json()).toMatchObject({
        header: { status: 'succ', total_count: 2, completed_count: 2 },
        message: {
          transaction_id: 't-link',
          link_response: [{ reference_id: 'l1', status: 'succ' }, { reference_id: 'l2' }],
        },
      });

      const answer = await resolve(['K1', 'NOBODY', 'K2']);
      expect(answer.header).toMatchObject({ status: 'succ', total_count: 3, action: 'resolve' });
      expect(answer.message.transaction_id).toBe('t1');
      const byRef = Object.fromEntries(
        answer.message.resolve_response.map((a: { reference_id: string }) => [a.reference_id, a]),
      );
      expect(byRef.r0).toMatchObject({
        id: 'K1',
        fa: 'account:11@nb',
        name: 'Kamau',
        status: 'succ',
        status_reason_code: 'succ.id.active',
      });
      expect(byRef.r1).toMatchObject({
        id: 'NOBODY',
        fa: null,
        status: 'succ',
        status_reason_code: 'succ.id.not_found',
      });
      expect(byRef.r2).toMatchObject({ id: 'K2', fa: 'mobile:0722@mpesa', name: null });

      const yesNo = await resolve(['K1'], 'yes_no');
      expect(yesNo.message.resolve_response[0]).toMatchObject({
        fa: null,
        status_reason_code: 'succ.id.active',
      });

      const unlinked = await post(
        '/sync/unlink',
        g2pBody(
          'unlink',
          {
            transaction_id: 't-unlink',
            unlink_request: [
              { reference_id: 'u1', id: 'K1', fa: 'account:WRONG@nb' },
              { reference_id: 'u2', id: 'K2' },
              { reference_id: 'u3', id: 'NOBODY' },
            ],
          },
          3,
        ),
      );
      expect(unlinked.json().message.unlink_response).toEqual([
        expect.objectContaining({
          reference_id: 'u1',
          status: 'rjct',
          status_reason_code: 'rjct.fa.invalid',
        }),
        expect.objectContaining({ reference_id: 'u2', status: 'succ', status_reason_code: null }),
        expect.objectContaining({
          reference_id: 'u3',
          status: 'rjct',
          status_reason_code: 'rjct.id.invalid',
        }),
      ]);
      expect(unlinked.json().header.completed_count).toBe(1);

      const after = await resolve(['K1', 'K2']);
      expect(after.message.resolve_response).toEqual([
        expect.objectContaining({ id: 'K1', fa: 'account:11@nb' }),
        expect.objectContaining({ id: 'K2', fa: null, status_reason_code: 'succ.fa.not_linked_to_id' }),
      ]);
      // unlinking again: not linked any more
      expect(await s.sim.unlink([{ id: 'K2' }])).toEqual([
        { id: 'K2', unlinked: false, reason: 'ID_NOT_LINKED' },
      ]);
      // linking again reactivates with the new address
      expect(
        await s.sim.link([
          { id: 'K2', fa: 'mobile:0733@airtel' },
          { id: 'K2', fa: 'mobile:0744@airtel' },
        ]),
      ).toBe(1);
      expect((await resolve(['K2'])).message.resolve_response[0]).toMatchObject({
        fa: 'mobile:0744@airtel',
        status_reason_code: 'succ.id.active',
      });
    });

    it('rejects a malformed request with a G2P Connect envelope', async () => {
      const res = await post(
        '/sync/resolve',
        g2pBody('resolve', { transaction_id: 't', resolve_request: [{ id: 'x' }] }, 1),
      );
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        signature: null,
        header: { status: 'rjct', status_reason_code: 'rjct.request.invalid' },
      });
      const link = await post(
        '/sync/link',
        g2pBody('link', { transaction_id: 't', link_request: [{ reference_id: 'a', id: 'x' }] }, 1),
      );
      expect(link.statusCode).toBe(400);
    });

    it('lists entries a page at a time', async () => {
      await s.sim.link(Array.from({ length: 5 }, (_, i) => ({ id: `E${i}`, fa: `account:${i}@b` })));
      await s.sim.unlink([{ id: 'E3' }]);
      const first = await s.app.inject({ method: 'GET', url: '/mapper/admin/entries?limit=2' });
      expect(first.json()).toMatchObject({
        entries: [{ id: 'E0' }, { id: 'E1' }],
        next: 'E1',
        total: 5,
        active: 4,
      });
      const last = await s.app.inject({ method: 'GET', url: '/mapper/admin/entries?limit=2&after=E3' });
      expect(last.json()).toMatchObject({ entries: [{ id: 'E4' }], next: null });
      const inactive = await s.app.inject({ method: 'GET', url: '/mapper/admin/entries?active=false' });
      expect(inactive.json().entries).toEqual([{ id: 'E3', fa: 'account:3@b', name: null, active: false }]);
      const one = await s.app.inject({ method: 'GET', url: '/mapper/admin/entries/E4' });
      expect(one.json()).toEqual({ id: 'E4', fa: 'account:4@b', name: null, active: true });
      expect((await s.app.inject({ method: 'GET', url: '/mapper/admin/entries/E9' })).statusCode).toBe(404);
      expect((await s.app.inject({ method: 'DELETE', url: '/mapper/admin/entries' })).json()).toEqual({
        deleted: 5,
      });
    });
  });

  describe('failure controls', () => {
    it('fails the next N calls over HTTP, then answers again', async () => {
      const armed = await post('/admin/faults', { failNext: 2, mode: 'error' });
      expect(armed.json()).toEqual({ failNext: 2, mode: 'error', delayMs: 0, hangMs: 120000 });
      const body = g2pBody(
        'resolve',
        { transaction_id: 't', resolve_request: [{ reference_id: 'a', id: 'x' }] },
        1,
      );
      expect((await post('/sync/resolve', body)).statusCode).toBe(500);
      // admin calls do not count
      expect((await s.app.inject({ method: 'GET', url: '/mapper/admin/faults' })).json().failNext).toBe(1);
      expect((await post('/sync/resolve', body)).statusCode).toBe(500);
      expect((await post('/sync/resolve', body)).statusCode).toBe(200);
    });

    it('answers with a truncated body in malformed mode, and a hang ends with 504 after hangMs', async () => {
      s.sim.faults.failNext(1, 'malformed');
      const body = g2pBody(
        'resolve',
        { transaction_id: 't', resolve_request: [{ reference_id: 'a', id: 'x' }] },
        1,
      );
      const malformed = await post('/sync/resolve', body);
      expect(malformed.statusCode).toBe(200);
      expect(() => JSON.parse(malformed.body)).toThrow();
      await post('/admin/faults', { failNext: 1, mode: 'hang', hangMs: 50 });
      expect((await post('/sync/resolve', body)).statusCode).toBe(504);
    });

    it('delays answers and resets', async () => {
      await post('/admin/faults', { delayMs: 150 });
      const body = g2pBody(
        'resolve',
        { transaction_id: 't', resolve_request: [{ reference_id: 'a', id: 'x' }] },
        1,
      );
      const started = Date.now();
      expect((await post('/sync/resolve', body)).statusCode).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect((await s.app.inject({ method: 'DELETE', url: '/mapper/admin/faults' })).json()).toMatchObject({
        delayMs: 0,
        failNext: 0,
      });
      expect((await post('/admin/faults', { mode: 'explode', failNext: 1 })).statusCode).toBe(400);
      expect(() => s.sim.faults.failNext(-1)).toThrow(RangeError);
    });

    it('releases a hanging call when the simulator stops', async () => {
      s.sim.faults.failNext(1, 'hang');
      const body = g2pBody(
        'resolve',
        { transaction_id: 't', resolve_request: [{ reference_id: 'a', id: 'x' }] },
        1,
      );
      const pending = post('/sync/resolve', body);
      await vi.waitFor(() => expect(s.sim.faults.waiting).toBe(1));
      await s.sim.stop();
      expect((await pending).statusCode).toBe(504);
    });
  });
});
