// Who may call a simulator. The example bank moves money and the mapper decides where it goes, so they are no
// back door: on a loopback interface they answer anyone on this machine (the all-in-one `start` on a
// laptop); once the process listens beyond loopback every simulator route needs a bearer token with the
// admin role, or the key of the process that `start` hands to its own connector and mapper client. A loopback
// process behind a reverse proxy is reachable by whoever reaches the proxy: with TRUST_PROXY set the
// simulators need the admin role as beyond loopback, and without it so does any request that carries
// X-Forwarded-* or Forwarded headers (a proxy forwarded it).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TokenVerifier } from '../auth/index.js';

export type SimulatorAccess =
  /**
   * Anyone on this machine: the process listens on loopback only (a request a proxy forwarded still needs
   * the admin role, checked with `verifier`; none: auth is off), or AUTH_MODE=none turned every check off.
   */
  | { open: true; why: 'loopback'; verifier?: TokenVerifier | null; processKey?: string }
  | { open: true; why: 'auth-off' }
  | {
      open: false;
      verifier: TokenVerifier;
      /** A random secret of this process, never printed: how `start`'s workers reach its own simulators. */
      processKey?: string;
    };

/** A simulator's own refusal body (the bank answers `error_code`, the mapper `error`). */
export type Refuse = (reply: FastifyReply, status: 401 | 403, code: string, message: string) => unknown;

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(?:::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The rule above, for a process that listens on `host` (`verifier` null: AUTH_MODE=none). `trustProxy` is
 * the TRUST_PROXY setting: anything but false means a proxy stands in front, so loopback proves nothing.
 */
export function simulatorAccess(options: {
  host: string;
  verifier: TokenVerifier | null;
  processKey?: string;
  trustProxy?: boolean | number | string;
}): SimulatorAccess {
  const { verifier, processKey } = options;
  const loopback = isLoopbackHost(options.host);
  if (!verifier) return { open: true, why: loopback ? 'loopback' : 'auth-off' };
  if (loopback && !behindProxy(options.trustProxy))
    return { open: true, why: 'loopback', verifier, processKey };
  return { open: false, verifier, processKey };
}

/** TRUST_PROXY says a proxy stands in front (false, 0 and '' say none). */
const behindProxy = (trustProxy: boolean | number | string | undefined) =>
  trustProxy !== undefined && trustProxy !== false && trustProxy !== 0 && trustProxy !== '';

/** A request a proxy forwarded: it carries X-Forwarded-* or Forwarded headers. */
export function isProxied(headers: Record<string, unknown>): boolean {
  return Object.keys(headers).some((h) => h === 'forwarded' || h.startsWith('x-forwarded-'));
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Adds the check to a simulator's plugin scope (every route in it). Only the Authorization header counts:
 * the dashboard's cookie never opens a simulator.
 */
export function guardSimulator(scope: FastifyInstance, access: SimulatorAccess, refuse: Refuse) {
  if (access.open && (access.why === 'auth-off' || !access.verifier)) return;
  const onlyProxied = access.open;
  const verifier = access.verifier as TokenVerifier;
  const key = access.processKey ? digest(access.processKey) : null;
  scope.addHook('onRequest', async (request, reply) => {
    if (onlyProxied && !isProxied(request.headers)) return;
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const token = match?.[1];
    if (!token) {
      reply.header('www-authenticate', 'Bearer');
      return refuse(
        reply,
        401,
        'SIMULATOR_UNAUTHORIZED',
        'The simulators need a bearer token with the admin role',
      );
    }
    if (key && timingSafeEqual(digest(token), key)) return;
    let roles: readonly string[];
    try {
      roles = (await verifier(token)).roles;
    } catch {
      reply.header('www-authenticate', 'Bearer');
      return refuse(reply, 401, 'SIMULATOR_UNAUTHORIZED', 'The bearer token is invalid or expired');
    }
    if (!roles.includes('admin'))
      return refuse(reply, 403, 'SIMULATOR_FORBIDDEN', 'The simulators need a token with the admin role');
  });
}
