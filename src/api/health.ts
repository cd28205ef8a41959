import type { Feature } from './server.js';

/** A component that /ready also asks (e.g. the workers of `start`): not ok makes /ready answer 503. */
export type ReadinessCheck = () =>
  | { ok: boolean; detail?: string }
  | Promise<{ ok: boolean; detail?: string }>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Extra readiness checks by name; `start` registers its workers here. */
    readinessChecks: Map<string, ReadinessCheck>;
  }
}

/** Liveness (`/ping`, `/health`) and readiness (`/ready`: the database answers, and every registered check). */
export const healthRoutes: Feature = (app, ctx) => {
  const publicRoute = { config: { roles: 'public' as const }, schema: { hide: true } };
  app.decorate('readinessChecks', new Map<string, ReadinessCheck>());
  app.get('/ping', { config: { roles: 'public' }, schema: { tags: ['health'] } }, async () => ({
    status: 'ok',
    message: 'pong',
  }));
  app.get('/health', publicRoute, async () => ({ status: 'ok' }));
  app.get('/ready', publicRoute, async (_request, reply) => {
    try {
      await ctx.db.query('SELECT 1');
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', reason: (error as Error).message });
    }
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    for (const [name, check] of app.readinessChecks) {
      try {
        checks[name] = await check();
      } catch (error) {
        checks[name] = { ok: false, detail: (error as Error).message };
      }
    }
    const failing = Object.entries(checks).filter(([, c]) => !c.ok);
    if (failing.length) {
      return reply.code(503).send({
        status: 'unavailable',
        reason: failing.map(([name, c]) => `${name}: ${c.detail ?? 'not ready'}`).join('; '),
        database: ctx.db.kind,
        checks,
      });
    }
    return Object.keys(checks).length
      ? { status: 'ready', database: ctx.db.kind, checks }
      : { status: 'ready', database: ctx.db.kind };
  });
};
