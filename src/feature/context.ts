// What a feature folder is given and builds on: the app context, the caller of a request, the scope checks
// every feature applies, and the Feature type by which the app registers it (a Fastify plugin with its context).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Actor } from '../audit/index.js';
import { allows, type Principal, type TokenVerifier } from '../auth/index.js';
import type { BankLimitsSource } from '../bank/limits.js';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import { Rejection } from '../g2p/message.js';

/** What every feature needs: settings, the database, a logger and the clock (injectable for tests). */
export interface AppContext {
  config: Config;
  db: Db;
  log: Logger;
  now: () => Date;
  /** null when AUTH_MODE=none. */
  verifier: TokenVerifier | null;
  /** Each sponsor bank's connector limits (create_disbursements); absent: the defaults (src/bank/limits.ts). */
  bankLimits?: BankLimitsSource;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app context's clock, for code that has the app but not the context (PBMS routes, error answers). */
    clock: () => Date;
  }
}

/** A feature registers its routes (and owns their schemas) on the app it is given. */
export type Feature = (app: FastifyInstance, ctx: AppContext) => void | Promise<void>;

/** Who is calling (the verified token, with its scope) and the request it came with, for scopes and audit. */
export interface Caller extends Actor {
  programs?: readonly string[];
  bankCodes?: readonly string[];
  /**
   * Senders that prove who they are (keys or must-sign in G2P_CONNECT_SENDERS): only they may change the
   * envelopes they created. Others' sender_id authenticates nothing (1.0.2's one trusted PBMS), so it binds nothing.
   */
  boundSenders?: readonly string[];
}

/** The senders whose envelopes only they may change: those configured with keys or as must-sign. */
function boundSendersOf(request: FastifyRequest): string[] {
  type Sender = { senderId: string; mustSign: boolean; publicKeys: unknown[]; jwksUrl: string | null };
  const server = request.server as { g2pSecurity?: { senders: ReadonlyMap<string, Sender> } };
  const senders = server.g2pSecurity?.senders;
  if (!senders) return [];
  return [...senders.values()]
    .filter((s) => s.mustSign || s.publicKeys.length > 0 || s.jwksUrl !== null)
    .map((s) => s.senderId);
}

const NOBODY: Principal = { subject: 'anonymous', roles: [] };

/** The caller of a request; `header` is the G2P header of a PBMS call. */
export function callerOf(
  request: FastifyRequest,
  header?: { sender_id?: string; message_id?: string },
): Caller {
  const p = request.principal ?? NOBODY;
  return {
    subject: p.subject,
    roles: p.roles,
    senderId: header?.sender_id ?? null,
    requestId: request.id ?? null,
    messageId: header?.message_id ?? null,
    ...(p.programs ? { programs: p.programs } : {}),
    ...(p.bankCodes ? { bankCodes: p.bankCodes } : {}),
    boundSenders: boundSendersOf(request),
  };
}

/** Codes of the refusals a caller's scope causes: HTTP 403, with the G2P rjct body where the call has one. */
export const FORBIDDEN_PROGRAM = 'forbidden.program';
export const FORBIDDEN_ACCOUNT = 'forbidden.account';

export function isForbiddenCode(code: string | null | undefined): boolean {
  return typeof code === 'string' && code.startsWith('forbidden.');
}

/**
 * Refuses (throwing, so the transaction rolls back) when the caller is scoped to programs and any of
 * `programs` is not among them.
 */
export function requirePrograms(caller: Caller, programs: Iterable<string>): void {
  if (!caller.programs) return;
  const outside = [...new Set(programs)].filter((p) => !allows(caller.programs, p));
  if (outside.length > 0) {
    throw new Rejection(
      FORBIDDEN_PROGRAM,
      `The caller ${caller.subject} may not act on program ${outside.sort().join(', ')}`,
    );
  }
}
