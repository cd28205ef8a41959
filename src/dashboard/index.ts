// The operators' dashboard at /dashboard: server-rendered pages over the bridge's tables, behind the API's
// own authentication (roles admin or pbms). Browsers cannot send bearer headers on links, so a small login
// page puts the token in an HttpOnly cookie that the auth hook also reads.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cliCommand, tokenSource } from '../auth/hint.js';
import type { AppContext, Feature } from '../feature/context.js';
import { localDate } from '../g2p/dates.js';
import { envelopeLedgerErrors } from '../payouts/ledger.js';
import { listPrograms } from '../programs/service.js';
import { CSS, CSS_PATH, JS, JS_PATH } from './assets.js';
import { auditCsv, envelopeCsv } from './csv.js';
import { html, timeFormatter } from './html.js';
import {
  auditPage,
  callbacksPage,
  disbursementPage,
  envelopePage,
  envelopesPage,
  loginPage,
  messagePage,
  statementPage,
  statementsPage,
  type View,
} from './pages.js';
import {
  accountStatements,
  addDecimal,
  auditPage as auditRowsPage,
  bankBatches,
  batchProgress,
  callbackSenders,
  type EnvelopeBreakdown,
  emptyCounts,
  envelopeAudit,
  envelopeBreakdown,
  envelopeErrorRecons,
  getDisbursement,
  getEnvelope,
  getStatement,
  lifecycleCounts,
  listEnvelopes,
  listStatements,
  mapperBatches,
  type StateCounts,
  statementBacklog,
  statementText,
  undeliveredCallbacks,
} from './queries.js';

export const COOKIE = 'g2p_token';
const PAGE_SIZE = 25;
const ERROR_RECON_LIMIT = 500;
const AUDIT_LIMIT = 200;
const AUDIT_PAGE_SIZE = 100;
const CALLBACKS_SHOWN = 200;
// Route options: pages for signed-in operators, and the few anyone may open (login, assets). Hidden from the
// API documentation.
const SIGNED_IN = { config: { roles: ['admin', 'pbms'] as const }, schema: { hide: true } };
const OPEN = { config: { roles: 'public' as const }, schema: { hide: true } };
// The whole audit trail names every caller: operators only.
const ADMIN = { config: { roles: ['admin'] as const }, schema: { hide: true } };

// Pages and assets are ours only: no inline script or style, no third-party origin, no framing.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function offsetOf(request: FastifyRequest): number {
  const raw = (request.query as Record<string, unknown>).offset;
  const n = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : 0;
  return n;
}

function stringParam(request: FastifyRequest, name: string): string {
  const raw = (request.query as Record<string, unknown>)[name];
  return typeof raw === 'string' ? raw.trim().slice(0, 200) : '';
}

/** Only a path of this dashboard may follow a login (no open redirect). */
function safeNext(value: unknown): string {
  if (typeof value !== 'string') return '/dashboard';
  return /^\/dashboard(?:[/?][^\\]*)?$/.test(value) && !value.startsWith('//') ? value : '/dashboard';
}

/** Seconds until a JWT's `exp`, read after the verifier accepted it; null when it carries none. */
function secondsLeft(token: string, now: Date): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload.exp === 'number'
      ? Math.max(0, Math.floor(payload.exp - now.getTime() / 1000))
      : null;
  } catch {
    return null;
  }
}

function cookie(request: FastifyRequest, value: string, maxAge: number | null): string {
  // Path=/dashboard: the cookie never travels with API calls (and the auth hook would not take it there).
  // Secure whenever the request came over https, directly or per a trusted proxy (TRUST_PROXY).
  const parts = [`${COOKIE}=${encodeURIComponent(value)}`, 'Path=/dashboard', 'HttpOnly', 'SameSite=Strict'];
  if (maxAge !== null) parts.push(`Max-Age=${maxAge}`);
  if (request.protocol === 'https') parts.push('Secure');
  return parts.join('; ');
}

/**
 * Whether a sign-in or sign-out post comes from this dashboard's own pages. A browser names the page's origin
 * in Origin (and says cross-site or same-site in Sec-Fetch-Site); a client that sends neither is no browser
 * another site could drive. The host and scheme are the request's own (X-Forwarded-* only from TRUST_PROXY).
 */
function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = request.headers.origin;
  // A browser that says same-origin but hides the origin (Origin: null, as Chromium does for a form post from a
  // page with a no-referrer policy) is believed: Sec-Fetch-Site is set by the browser, never by a page.
  if (site === 'same-origin' && origin === 'null') return true;
  if (origin === undefined) return true;
  return origin === `${request.protocol}://${request.host}`;
}

function refuseCrossSite(reply: FastifyReply) {
  return reply.code(403).send({
    error: 'CROSS_SITE_REQUEST',
    message: 'Sign-in and sign-out are accepted from the dashboard itself only',
    statusCode: 403,
  });
}

function sendHtml(reply: FastifyReply, body: string, status = 200) {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
}

function sendCsv(reply: FastifyReply, filename: string, rows: AsyncGenerator<string>) {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(Readable.from(rows));
}

function notFoundPage(reply: FastifyReply, what: 'envelope' | 'statement', id: string) {
  const title = `${what[0]!.toUpperCase()}${what.slice(1)} not found`;
  return sendHtml(reply, messagePage(title, html`No ${what} has the id <code>${id}</code>.`), 404);
}

function notFoundJson(reply: FastifyReply, message: string) {
  return reply.code(404).send({ error: 'not_found', message, statusCode: 404 });
}

function idParam(request: FastifyRequest): string {
  return (request.params as { id: string }).id;
}

/**
 * A person's browser opening a page: a GET that asks for text/html (every browser navigation does) of anything
 * but a .json endpoint. Scripts (Accept: application/json, or curl's any-type default) get the API's JSON 401/403.
 */
function wantsHtml(request: FastifyRequest): boolean {
  if (request.method !== 'GET' || request.url.split('?')[0]!.endsWith('.json')) return false;
  return /\btext\/html\b/.test(request.headers.accept ?? '');
}

/** Count and exact amount per state: the sums over the reasons of each state. */
function stateTotals(breakdown: EnvelopeBreakdown): StateCounts {
  const counts = emptyCounts();
  for (const r of breakdown.byStateReason) {
    counts[r.state].count += r.count;
    counts[r.state].amount = addDecimal(counts[r.state].amount, r.amount);
  }
  return counts;
}

function routes(ctx: AppContext) {
  const time = timeFormatter(ctx.config.TIME_ZONE);
  // Where a token comes from, shown on the sign-in page (commands and setting names only).
  const local = !ctx.config.JWKS_URL && !ctx.config.JWT_PUBLIC_KEY;
  const howToGetOne = {
    text: tokenSource(ctx.config),
    command: local || ctx.config.JWT_SECRET ? cliCommand('token admin') : undefined,
  };
  const login = (options: { next: string; error?: string }) => loginPage({ ...options, token: howToGetOne });
  // A page that took long to read (an envelope of a million disbursements) reloads less often, so that
  // an open browser never keeps the database busy more than a tenth of the time.
  const view = (startedAt = Date.now()): View => {
    const configured = ctx.config.DASHBOARD_REFRESH_SECONDS;
    const spent = (Date.now() - startedAt) / 1000;
    return {
      time,
      refreshSeconds: configured > 0 ? Math.max(configured, Math.ceil(spent * 10)) : 0,
      today: localDate(ctx.now(), ctx.config.TIME_ZONE),
    };
  };

  return async (app: FastifyInstance) => {
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    app.addHook('onSend', async (request, reply, payload) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
      // The API's 401/403 answers are JSON; a person opening a page gets the login page instead.
      if (wantsHtml(request) && (reply.statusCode === 401 || reply.statusCode === 403)) {
        const next = encodeURIComponent(request.url);
        reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
        if (reply.statusCode === 401) {
          reply
            .code(303)
            .header('location', `/dashboard/login?next=${next}`)
            .removeHeader('www-authenticate');
          return '';
        }
        return messagePage(
          'Not allowed',
          html`The dashboard needs a token with the role admin or pbms. <a href="/dashboard/login?next=${next}">Sign in with another token</a>.`,
          'bad',
        );
      }
      return payload;
    });

    // The pages show every program. A PBMS identity scoped to some programs (docs/api.md) is kept out rather
    // than shown others' envelopes; an admin sees everything whatever its scope.
    app.addHook('preHandler', async (request, reply) => {
      const p = request.principal;
      if (p?.programs && !p.roles.includes('admin')) {
        return reply.code(403).send({
          error: 'forbidden',
          message: 'The dashboard shows every program; a caller scoped to programs needs the admin role',
          statusCode: 403,
        });
      }
    });

    app.get('/assets/:file', OPEN, async (request, reply) => {
      const path = `/dashboard/assets/${(request.params as { file: string }).file}`;
      const asset =
        path === CSS_PATH
          ? { body: CSS, type: 'text/css' }
          : path === JS_PATH
            ? { body: JS, type: 'text/javascript' }
            : null;
      if (!asset) return notFoundJson(reply, 'No such asset');
      return reply
        .type(`${asset.type}; charset=utf-8`)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(asset.body);
    });

    app.get('/login', OPEN, async (request, reply) =>
      sendHtml(reply, login({ next: safeNext(stringParam(request, 'next')) })),
    );

    app.post('/login', OPEN, async (request, reply) => {
      if (!sameOrigin(request)) return refuseCrossSite(reply);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const next = safeNext(body.next);
      const token = typeof body.token === 'string' ? body.token.trim().replace(/^Bearer\s+/i, '') : '';
      if (!ctx.verifier) return reply.code(303).header('location', next).send();
      if (!token) return sendHtml(reply, login({ next, error: 'Paste a token first.' }), 400);
      let roles: string[];
      try {
        roles = (await ctx.verifier(token)).roles;
      } catch {
        return sendHtml(
          reply,
          login({
            next,
            error: 'This token is not valid for this bridge (signed with another key, or expired).',
          }),
          401,
        );
      }
      if (!roles.some((r) => r === 'admin' || r === 'pbms')) {
        return sendHtml(
          reply,
          login({ next, error: 'This token has neither the admin nor the pbms role.' }),
          403,
        );
      }
      request.log.info({ roles }, 'dashboard sign-in');
      return reply
        .code(303)
        .header('set-cookie', cookie(request, token, secondsLeft(token, ctx.now())))
        .header('location', next)
        .send();
    });

    app.post('/logout', OPEN, async (request, reply) => {
      if (!sameOrigin(request)) return refuseCrossSite(reply);
      return reply
        .code(303)
        .header('set-cookie', cookie(request, '', 0))
        .header('location', '/dashboard/login')
        .send();
    });

    app.get('/', SIGNED_IN, async (request, reply) => {
      const started = Date.now();
      const offset = offsetOf(request);
      const program = stringParam(request, 'program') || undefined;
      const { envelopes, more } = await listEnvelopes(ctx.db, { program, limit: PAGE_SIZE, offset });
      const ids = envelopes.map((e) => e.disbursement_envelope_id);
      const [counts, batches, programList] = [
        await lifecycleCounts(ctx.db, ids),
        await batchProgress(ctx.db, ids),
        await listPrograms(ctx.db),
      ];
      return sendHtml(
        reply,
        envelopesPage(view(started), {
          envelopes,
          counts,
          batches,
          more,
          offset,
          limit: PAGE_SIZE,
          program,
          programs: programList,
        }),
      );
    });

    app.get('/envelopes/:id', SIGNED_IN, async (request, reply) => {
      const started = Date.now();
      const id = idParam(request);
      const envelope = await getEnvelope(ctx.db, id);
      if (!envelope) return notFoundPage(reply, 'envelope', id);
      const breakdown = await envelopeBreakdown(ctx.db, id);
      const counts = stateTotals(breakdown);
      const data = {
        envelope,
        counts,
        batches: (await batchProgress(ctx.db, [id])).get(id)!,
        breakdown,
        mapperBatches: await mapperBatches(ctx.db, id),
        bankBatches: await bankBatches(ctx.db, id),
        errorRecons: await envelopeErrorRecons(ctx.db, id, ERROR_RECON_LIMIT),
        errorReconLimit: ERROR_RECON_LIMIT,
        ledgerErrors: await envelopeLedgerErrors(ctx.db, id),
        audit: await envelopeAudit(ctx.db, id, AUDIT_LIMIT),
        auditLimit: AUDIT_LIMIT,
      };
      return sendHtml(reply, envelopePage(view(started), data));
    });

    // Machine-readable figures for scripts and `g2p-bridge demo`: the cheap progress counters, and the full
    // per-state, per-reason breakdown (one pass over the envelope's disbursements).
    app.get('/envelopes/:id/progress.json', SIGNED_IN, async (request, reply) => {
      const id = idParam(request);
      const envelope = await getEnvelope(ctx.db, id);
      if (!envelope) return notFoundJson(reply, `No envelope ${id}`);
      return {
        envelope,
        batches: (await batchProgress(ctx.db, [id])).get(id)!,
        statements: await statementBacklog(ctx.db),
      };
    });

    app.get('/envelopes/:id/summary.json', SIGNED_IN, async (request, reply) => {
      const id = idParam(request);
      const envelope = await getEnvelope(ctx.db, id);
      if (!envelope) return notFoundJson(reply, `No envelope ${id}`);
      const breakdown = await envelopeBreakdown(ctx.db, id);
      return {
        envelope,
        states: stateTotals(breakdown),
        reasons: breakdown.byStateReason,
        statements: await accountStatements(ctx.db, envelope.sponsor_bank_account_number),
      };
    });

    app.get('/envelopes/:id/disbursements.csv', SIGNED_IN, async (request, reply) => {
      const id = idParam(request);
      const envelope = await getEnvelope(ctx.db, id);
      if (!envelope) return notFoundPage(reply, 'envelope', id);
      const filename = `${id.replace(/[^A-Za-z0-9._-]/g, '_')}-disbursements.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(envelopeCsv(ctx.db, id)));
    });

    app.get('/envelopes/:id/audit.csv', SIGNED_IN, async (request, reply) => {
      const id = idParam(request);
      const envelope = await getEnvelope(ctx.db, id);
      if (!envelope) return notFoundPage(reply, 'envelope', id);
      return sendCsv(reply, `${id.replace(/[^A-Za-z0-9._-]/g, '_')}-audit.csv`, auditCsv(ctx.db, id));
    });

    app.get('/audit', ADMIN, async (request, reply) => {
      const raw = stringParam(request, 'before');
      const before = /^\d{1,18}$/.test(raw) ? Number(raw) : undefined;
      const { rows, more } = await auditRowsPage(ctx.db, AUDIT_PAGE_SIZE, before);
      return sendHtml(reply, auditPage(view(), rows, more, before));
    });

    app.get('/audit.csv', ADMIN, async (_request, reply) =>
      sendCsv(reply, 'g2p-bridge-audit.csv', auditCsv(ctx.db)),
    );

    app.get('/statements', SIGNED_IN, async (request, reply) => {
      const offset = offsetOf(request);
      const { statements, more } = await listStatements(ctx.db, PAGE_SIZE, offset);
      return sendHtml(reply, statementsPage(view(), statements, offset, PAGE_SIZE, more));
    });

    app.get('/statements/:id', SIGNED_IN, async (request, reply) => {
      const id = idParam(request);
      const data = await getStatement(ctx.db, id);
      if (!data) return notFoundPage(reply, 'statement', id);
      return sendHtml(reply, statementPage(view(), data));
    });

    app.get('/statements/:id/raw', SIGNED_IN, async (request, reply) => {
      const id = idParam(request);
      const text = await statementText(ctx.db, id);
      if (text === null) return notFoundPage(reply, 'statement', id);
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(text);
    });

    app.get('/callbacks', SIGNED_IN, async (_request, reply) => {
      const [senders, undelivered] = await Promise.all([
        callbackSenders(ctx.db),
        undeliveredCallbacks(ctx.db, CALLBACKS_SHOWN),
      ]);
      return sendHtml(reply, callbacksPage(view(), senders, undelivered, CALLBACKS_SHOWN));
    });

    app.get('/disbursements', SIGNED_IN, async (request, reply) => {
      const id = stringParam(request, 'id');
      const detail = id ? await getDisbursement(ctx.db, id) : null;
      return sendHtml(reply, disbursementPage(view(), id, detail), id && !detail ? 404 : 200);
    });
  };
}

/** Registers /dashboard when DASHBOARD_ENABLED. */
export const dashboardRoutes: Feature = async (app, ctx) => {
  if (!ctx.config.DASHBOARD_ENABLED) return;
  await app.register(routes(ctx), { prefix: '/dashboard' });
};
