// The dashboard in a real browser (Debian's Chromium driven by playwright-core), against the all-in-one
// stack after a demo cycle: sign-in, pages, numbers against the PBMS API, the CSV against the database.
// Set G2P_SCREENSHOT=docs/screenshots/dashboard.png to also write the README's screenshot.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeClient } from '../../src/demo/client.js';
import { runDemo } from '../../src/demo/run.js';
import { collector, type TestStack, testStack } from '../cli/stack.js';
import { skipWithout } from '../support/prerequisites.js';

const CHROMIUM = '/usr/bin/chromium';
const ENVELOPE = 'ENV-DEMO-WEB1';

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

const digits = (text: string | null) => Number((text ?? '').replace(/[^\d.]/g, ''));

describe.skipIf(
  skipWithout(existsSync(CHROMIUM), `Chromium (${CHROMIUM})`, 'apt-get install chromium (.ci/run does)'),
)('dashboard in Chromium', () => {
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let api: BridgeClient;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    stack = await testStack();
    const result = await runDemo({
      url: stack.url,
      token: await stack.token(['admin', 'pbms']),
      size: 120,
      batchSize: 50,
      run: 'web1',
      pollMs: 200,
      timeoutMs: 90_000,
      out: collector(),
    });
    expect(result.ok).toBe(true);
    api = new BridgeClient(stack.url, await stack.token(['pbms']));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('sends an anonymous visitor to the login page and signs in with a pasted token', async () => {
    await page.goto(`${stack.url}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/login');
    await page.fill('textarea[name=token]', await stack.token(['admin']));
    await page.click('button[type=submit]');
    await page.waitForURL(`${stack.url}/dashboard`);
    expect(await page.title()).toContain('Envelopes');
    expect(await page.locator(`section[data-envelope="${ENVELOPE}"]`).count()).toBe(1);
  });

  it('shows the same lifecycle counts as the PBMS status API', async () => {
    const status = await api.g2pOk<{
      lifecycle_summary: Record<string, { count: number; amount: number | string }>;
      number_of_disbursements_received: number;
      number_of_disbursements_shipped: number;
      number_of_disbursements_reconciled: number;
      number_of_disbursements_reversed: number;
      total_disbursement_amount_received: number | string;
      funds_blocked_with_bank: string;
    }>('get_disbursement_envelope_status', ENVELOPE);
    const card = page.locator(`section[data-envelope="${ENVELOPE}"]`);
    for (const [state, bucket] of Object.entries(status.lifecycle_summary)) {
      expect(digits(await card.locator(`[data-state="${state}"]`).textContent()), state).toBe(bucket.count);
    }

    await card.locator('.title a').click();
    await page.waitForURL(/\/dashboard\/envelopes\//);
    const field = async (name: string) => page.locator(`[data-field="${name}"]`).first().textContent();
    expect(digits(await field('number_of_disbursements_received'))).toBe(
      status.number_of_disbursements_received,
    );
    expect(digits(await field('number_of_disbursements_shipped'))).toBe(
      status.number_of_disbursements_shipped,
    );
    expect(digits(await field('number_of_disbursements_reconciled'))).toBe(
      status.number_of_disbursements_reconciled,
    );
    expect(digits(await field('number_of_disbursements_reversed'))).toBe(
      status.number_of_disbursements_reversed,
    );
    expect((await field('total_disbursement_amount_received'))?.replace(/[^\d.]/g, '')).toBe(
      Number(status.total_disbursement_amount_received).toFixed(2),
    );
    expect(await field('funds_blocked_with_bank')).toContain(status.funds_blocked_with_bank);
    for (const [state, bucket] of Object.entries(status.lifecycle_summary)) {
      const row = page.locator(`tr[data-state="${state}"]`);
      expect(digits(await row.locator('[data-count]').textContent()), state).toBe(bucket.count);
      expect(Number((await row.locator('[data-amount]').textContent())?.replace(/,/g, ''))).toBe(
        Number(bucket.amount),
      );
    }
    expect(await page.locator('table[data-table="bank-batches"] tbody tr').count()).toBe(3);
  });

  it('downloads a CSV that matches the database row for row', async () => {
    const link = page.locator('a[href$="/disbursements.csv"]');
    const response = await page.request.get(
      new URL((await link.getAttribute('href'))!, stack.url).toString(),
    );
    expect(response.status()).toBe(200);
    const rows = parseCsv(await response.text());
    const [header, ...data] = rows;
    expect(header!.slice(0, 8)).toEqual([
      'disbursement_id',
      'mis_reference_number',
      'beneficiary_id',
      'disbursement_amount',
      'currency',
      'lifecycle_status',
      'lifecycle_reason',
      'mapper_resolution_batch_id',
    ]);
    const { rows: expected } = await stack.db.query<{
      disbursement_id: string;
      amount: string;
      lifecycle_status: string;
      lifecycle_reason: string | null;
      bank: string | null;
    }>(
      `SELECT d.disbursement_id, d.disbursement_amount::text AS amount, l.lifecycle_status, l.lifecycle_reason,
              r.remittance_reference_number AS bank
         FROM disbursement d
         JOIN disbursement_lifecycle l ON l.disbursement_id = d.disbursement_id
         JOIN bank_disbursement_batch_status b ON b.bank_disbursement_batch_id = d.bank_disbursement_batch_id
         LEFT JOIN disbursement_recon r ON r.disbursement_id = d.disbursement_id
        WHERE d.disbursement_envelope_id = $1
        ORDER BY b.created_at, b.bank_disbursement_batch_id, d.disbursement_id`,
      [ENVELOPE],
    );
    expect(data).toHaveLength(expected.length);
    const col = (name: string) => header!.indexOf(name);
    data.forEach((row, i) => {
      const e = expected[i]!;
      expect(row[col('disbursement_id')]).toBe(e.disbursement_id);
      expect(row[col('disbursement_amount')]).toBe(e.amount);
      expect(row[col('lifecycle_status')]).toBe(e.lifecycle_status);
      expect(row[col('lifecycle_reason')]).toBe(e.lifecycle_reason ?? '');
      expect(row[col('bank_reference_number')]).toBe(e.bank ?? '');
    });
  });

  it('lists statements and finds a disbursement by id', async () => {
    await page.click('header nav a[href="/dashboard/statements"]');
    await page.waitForURL(`${stack.url}/dashboard/statements`);
    const statuses = await page
      .locator('table[data-table="statements"] tbody tr td:nth-child(8)')
      .allTextContents();
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s.includes('PROCESSED'))).toBe(true);

    const { rows } = await stack.db.query<{ disbursement_id: string; reason: string }>(
      `SELECT disbursement_id, lifecycle_reason AS reason FROM disbursement_lifecycle
        WHERE disbursement_envelope_id = $1 AND lifecycle_status = 'reversed' LIMIT 1`,
      [ENVELOPE],
    );
    const reversed = rows[0];
    if (!reversed) return; // a run with no reversal has nothing to look up here
    await page.fill('header input[name=id]', reversed.disbursement_id);
    await page.press('header input[name=id]', 'Enter');
    await page.waitForURL(/\/dashboard\/disbursements\?id=/);
    const lifecycle = await page.locator('[data-field="lifecycle_status"]').textContent();
    expect(lifecycle).toContain('reversed');
    expect(lifecycle).toContain(reversed.reason);
  });

  it('loads its own script and style with no console errors (strict CSP, no CDN)', {
    timeout: 240_000,
  }, async () => {
    await page.goto(`${stack.url}/dashboard`);
    expect(await page.locator('#refresh-toggle').isVisible()).toBe(true); // shown by the script
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(background).not.toBe('rgba(0, 0, 0, 0)'); // the stylesheet applied
    expect(consoleErrors).toEqual([]);
    const shot = process.env.G2P_SCREENSHOT;
    if (shot) {
      // A fuller picture for the README: a bigger finished cycle, and one the bank is refusing right now.
      const token = await stack.token(['admin', 'pbms']);
      const demo = (run: string, size: number) =>
        runDemo({
          url: stack.url,
          token,
          size,
          batchSize: 1000,
          run,
          pollMs: 500,
          timeoutMs: 170_000,
          out: collector(),
        });
      await demo('apr26', 5000);
      const bank = new BridgeClient(`${stack.url}/example-bank`, '');
      await bank.call('POST', '/admin/faults', { operation: 'initiate_payment', count: 1000, mode: 'error' });
      const failing = demo('may26', 3000);
      for (let i = 0; i < 120; i++) {
        const { rows } = await stack.db.query<{ attempts: number | null }>(
          `SELECT min(disbursement_attempts)::int AS attempts FROM bank_disbursement_batch_status
            WHERE disbursement_envelope_id = 'ENV-DEMO-MAY26'`,
        );
        if ((rows[0]?.attempts ?? 0) >= 2) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      await mkdir(dirname(shot), { recursive: true });
      await page.goto(`${stack.url}/dashboard`);
      await page.screenshot({ path: shot, fullPage: true });
      await page.goto(`${stack.url}/dashboard/envelopes/ENV-DEMO-APR26`);
      await page.screenshot({ path: shot.replace(/\.png$/, '-envelope.png'), fullPage: true });
      await bank.call('DELETE', '/admin/faults', undefined);
      expect((await failing).ok).toBe(true); // the bridge retried once the bank answered again
    }
  });
});
