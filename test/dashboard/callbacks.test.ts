// The dashboard's callbacks page: G2P Connect callbacks per sender (pending, delivered, failing) and the ones
// not delivered yet, without their bodies (payee addresses and names stay out of the page).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.js';

describe('dashboard: callbacks', () => {
  let t: TestApp;
  let cookie: string;
  beforeAll(async () => {
    t = await testApp();
    cookie = `g2p_token=${await t.token('admin')}`;
  });
  afterAll(async () => t.close());

  const get = () =>
    t.app.inject({ method: 'GET', url: '/dashboard/callbacks', headers: { cookie, accept: 'text/html' } });
  const add = (
    id: string,
    sender: string,
    status: 'PENDING' | 'DELIVERED' | 'ERROR',
    attempts: number,
    error: string | null = null,
  ) =>
    t.ctx.db.query(
      `INSERT INTO g2p_connect_callback (message_id, sender_id, action, path, transaction_id, body, delivery_status,
                                         delivery_attempts, latest_error_code, delivered_at)
       VALUES ($1, $2, 'on-disburse', '/on-disburse', 'TXN-1', $3::jsonb, $4, $5, $6,
               CASE WHEN $4 = 'DELIVERED' THEN now() END)`,
      [
        id,
        sender,
        JSON.stringify({ header: {}, message: { disbursements_status: [{ payee_name: 'Secret Person' }] } }),
        status,
        attempts,
        error,
      ],
    );

  it('says when there is nothing yet', async () => {
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('No callbacks yet');
    expect(res.body).toContain('href="/dashboard/callbacks"');
  });

  it('counts pending, delivered and failing per sender, and lists the undelivered, failing first', async () => {
    await add('cb-1', 'pbms-a', 'DELIVERED', 1);
    await add('cb-2', 'pbms-a', 'DELIVERED', 2);
    await add('cb-3', 'pbms-a', 'PENDING', 0);
    await add('cb-4', 'pbms-b', 'PENDING', 3, 'CALLBACK_HTTP_503');
    await add('cb-5', 'pbms-b', 'ERROR', 10, 'CALLBACK_UNREACHABLE');
    await add('cb-6', '<script>x</script>', 'PENDING', 0);
    const res = await get();
    expect(res.statusCode).toBe(200);
    const row = (sender: string) => {
      const m = new RegExp(`<tr data-sender="${sender}">(.*?)</tr>`, 's').exec(res.body);
      expect(m, sender).not.toBeNull();
      const field = (name: string) =>
        new RegExp(`data-field="${name}">(.*?)</td>`, 's').exec(m![1]!)![1]!.replace(/<[^>]+>/g, '');
      return { pending: field('pending'), delivered: field('delivered'), failing: field('failing') };
    };
    expect(row('pbms-a')).toEqual({ pending: '1', delivered: '2', failing: '0' });
    expect(row('pbms-b')).toEqual({ pending: '0', delivered: '0', failing: '2' });
    const listed = [...res.body.matchAll(/data-callback="([^"]+)"/g)].map((m) => m[1]);
    expect(listed).toEqual(['cb-4', 'cb-5', 'cb-3', 'cb-6']);
    expect(res.body).toContain('CALLBACK_HTTP_503');
    expect(res.body).not.toContain('Secret Person');
    expect(res.body).not.toContain('<script>x</script>');
    expect(res.body).toContain('&lt;script&gt;');
  });

  it('is for operators: refused without a token', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/dashboard/callbacks',
      headers: { accept: 'application/json' },
    });
    expect(res.statusCode).toBe(401);
  });
});
