import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tokenSource } from '../auth/hint.js';
import type { Principal, Role } from '../auth/index.js';
import type { AppContext } from '../feature/context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed to call the route; 'public' needs no token. Routes without it are admin-only. */
    roles?: readonly Role[] | 'public';
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

function deny(reply: FastifyReply, status: 401 | 403, code: string, message: string) {
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(status).send({ error: code, message, statusCode: status });
}

/** Bearer-JWT check on every route: 401 without a valid token, 403 without a role the route allows. */
export function registerAuth(app: FastifyInstance, ctx: AppContext) {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const allowed = request.routeOptions.config?.roles ?? ['admin'];
    if (allowed === 'public' || !request.routeOptions.url) return;
    if (!ctx.verifier) {
      request.principal = { subject: 'anonymous', roles: ['pbms', 'bank', 'admin'] };
      return;
    }
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    let token = match?.[1];
    // Browsers opening the dashboard or a CSV link cannot set headers; a cookie carries the same token there,
    // and only there: an API call with the cookie alone is unauthenticated.
    if (!token && isDashboard(request.routeOptions.url))
      token = readCookie(request.headers.cookie, 'g2p_token');
    // Every 401 says where a token this bridge accepts comes from (command and setting names only).
    const source = () => tokenSource(ctx.config, allowed[0]);
    if (!token) return deny(reply, 401, 'unauthorized', `A bearer token is required. ${source()}`);
    try {
      request.principal = await ctx.verifier(token);
    } catch {
      return deny(reply, 401, 'unauthorized', `The bearer token is invalid or expired. ${source()}`);
    }
    if (!request.principal.roles.some((role) => allowed.includes(role))) {
      return deny(reply, 403, 'forbidden', `This call needs the role ${allowed.join(' or ')}`);
    }
  });
}

function isDashboard(url: string | undefined): boolean {
  return url === '/dashboard' || url?.startsWith('/dashboard/') === true;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}
