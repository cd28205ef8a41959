// Who may call a simulator. The example bank moves money and the mapper decides where it goes, so they are no
// back door: on a loopback interface they answer anyone on this machine (the all-in-one `start` on a
// laptop); once the process listens beyond loopback every simulator route needs a bearer token with the
// admin role, or the key of the process that `start` hands to its own connector and mapper client.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TokenVerifier } from '../auth/index.js';

export type SimulatorAccess =
  /** Anyone: the process listens on loopback only, or AUTH_MODE=none turned every check off. */
  | { open: true; why: 'loopback' | 'auth-off' }
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

/** The rule above, for a process that listens on `host`. */
export function simulatorAccess(options: {
  host: string;
  verifier: TokenVerifier | null;
  processKey?: string;
}): SimulatorAccess {
  if (isLoopbackHost(options.host)) return { open: true, why: 'loopback' };
  if (!options.verifier) return { open: true, why: 'auth-off' };
  return { open: false, verifier: options.verifier, processKey: options.processKey };
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Adds the check to a simulator's plugin scope (every route in it). Only the Authorization header counts:
 * the dashboard's cookie never opens a simulator.
 */
export function guardSimulator(scope: FastifyInstance, access: SimulatorAccess, refuse: Refuse) {
  if (access.open) return;
  const key = access.processKey ? digest(access.processKey) : null;
  scope.addHook('onRequest', async (request, reply) => {
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
      roles = (await access.verifier(token)).roles;
    } catch {
      reply.header('www-authenticate', 'Bearer');
      return refuse(reply, 401, 'SIMULATOR_UNAUTHORIZED', 'The bearer token is invalid or expired');
    }
    if (!roles.includes('admin'))
      return refuse(reply, 403, 'SIMULATOR_FORBIDDEN', 'The simulators need a token with the admin role');
  });
}
