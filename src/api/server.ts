import type { Server } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyHttpOptions,
  type FastifyInstance,
} from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { AppContext, Feature } from '../feature/context.js';
import { parsedWithoutNul, registerG2pInput } from '../g2p/json.js';
import { headerOf, responseHeader } from '../g2p/message.js';
import { registerAuth } from './auth-hook.js';
import { stringLengthKeywords } from './string-length.js';

export type { Feature };

type ServerSettings = Pick<
  Config,
  'MAX_BODY_BYTES' | 'REQUEST_TIMEOUT_MS' | 'CONNECTION_TIMEOUT_MS' | 'KEEP_ALIVE_TIMEOUT_MS' | 'TRUST_PROXY'
>;

/**
 * What every HTTP server of this codebase shares (the bridge, and each simulator run alone): body limit,
 * request ids, and the deadlines that keep a slow or silent client from holding a connection open.
 */
export function serverOptions(
  config: ServerSettings,
  log: Logger,
): FastifyHttpOptions<Server, FastifyBaseLogger> {
  return {
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: config.MAX_BODY_BYTES,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true },
      plugins: [stringLengthKeywords],
    },
    // Operators correlate by request id; bodies (beneficiary data) are never logged.
    requestIdHeader: 'x-request-id',
    // A hop count is honoured at run time (request.js), though the type does not list it.
    trustProxy: config.TRUST_PROXY as boolean | string,
    // The whole request, body included, must arrive within this (Node answers 408 and closes).
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    http: {
      headersTimeout: Math.min(60_000, config.REQUEST_TIMEOUT_MS),
      // Node looks for expired requests this often (default 30 s, which would let a deadline slip by that much).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.REQUEST_TIMEOUT_MS / 4))),
    },
  };
}

/**
 * An answer sent before the request's body has fully arrived (a 401 from the auth hook, a 413 ...) closes the
 * connection: otherwise Node keeps reading the rest of the body to reuse the connection, and a client that
 * dribbles it keeps the connection open long after it was refused.
 */
export function closeAfterEarlyAnswers(app: FastifyInstance) {
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.raw.complete) reply.header('connection', 'close');
    return payload;
  });
}

/**
 * The HTTP server: body limits, OpenAPI, authentication, and one error shape. Features (envelopes,
 * disbursements, statements, programs, dashboard ...) register their own routes.
 */
/** How long shutdown waits for open requests before cutting their connections. */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Closes the server, cutting whatever connections are still open after `graceMs`: a client stuck on a slow
 * bank, or one that never reads its answer, must not hold the exit.
 */
export async function closeWithGrace(app: FastifyInstance, graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
  const force = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(force);
  }
}

export async function buildServer(ctx: AppContext, features: Feature[]): Promise<FastifyInstance> {
  const app = Fastify(serverOptions(ctx.config, ctx.log));
  closeAfterEarlyAnswers(app);
  app.decorate('clock', ctx.now);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'g2p-bridge',
        version: '0.1.0',
        description:
          'Carries G2P benefit payments from a PBMS to a sponsor bank and reconciles them against MT940 statements. ' +
          'PBMS calls are wire-compatible with OpenG2P G2P Bridge 1.0.2.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
    },
  });
  if (ctx.config.DOCS_ENABLED) {
    // The API's documentation holds no data: readable without a token, and hidden from itself.
    app.addHook('onRoute', (route) => {
      if (route.url === '/docs' || route.url.startsWith('/docs/')) {
        route.config = { ...(route.config as object), roles: 'public' };
        route.schema = { ...route.schema, hide: true };
      }
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  }

  registerG2pInput(app, ctx.config); // exact JSON numbers, no lone surrogates; G2P header rules
  registerAuth(app, ctx);

  refuseNulCharacters(app);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply
        .code(500)
        .send(errorBody(request, ctx.now(), 'INTERNAL_ERROR', 'The bridge could not process this request'));
    }
    const code =
      error.validation !== undefined
        ? 'INVALID_REQUEST'
        : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'REQUEST_TOO_LARGE'
          : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : 'INVALID_REQUEST';
    return reply.code(status).send(errorBody(request, ctx.now(), code, error.message, error.validation));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: `No route ${request.method} ${request.url}`, statusCode: 404 }),
  );

  for (const feature of features) await feature(app, ctx);
  return app;
}

/** Whether a parsed JSON value (or params/query object) holds a string or key with U+0000. */
/**
 * PostgreSQL text cannot hold U+0000: refuse it up front as a request error (400 INVALID_REQUEST) instead of
 * failing in SQL. The simulators add it to their own scopes too, since they can also run alone.
 */
export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    for (const [part, value] of [
      ['body', request.body],
      ['params', request.params],
      ['querystring', request.query],
    ] as const) {
      // A JSON body's text was already checked by the exact parser (src/g2p/json.ts).
      if (part === 'body' && parsedWithoutNul(value)) continue;
      if (containsNul(value)) {
        throw Object.assign(new Error(`${part} must not contain NUL (U+0000) characters`), {
          statusCode: 400,
          code: 'INVALID_REQUEST',
        });
      }
    }
  });
}

export function containsNul(value: unknown): boolean {
  // Iterative: a deeply nested body must not overflow the stack.
  const pending: unknown[] = [value];
  while (pending.length) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return true;
    } else if (Array.isArray(item)) {
      // No spread: a list of a few hundred thousand items would exceed the argument limit.
      for (const inner of item) pending.push(inner);
    } else if (isPlainObject(item)) {
      // Only parsed JSON: a route's raw body (a Buffer, a stream with its circular socket) is not walked.
      for (const [key, inner] of Object.entries(item)) {
        if (key.includes('\u0000')) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  // null-prototype dictionaries too, including find-my-way's params (a class whose prototype has none)
  return proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null;
}

function errorBody(
  request: Parameters<typeof headerOf>[0],
  now: Date,
  code: string,
  message: string,
  validation?: unknown,
) {
  const header = responseHeader(headerOf(request), request.url.replace(/^\//, ''), 'rjct', now, {
    code,
    message,
  });
  return { signature: null, header, message: null, errors: validation ?? undefined };
}
