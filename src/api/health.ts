import type { Feature } from './server.js';

/** Liveness (`/ping`, `/health`) and readiness (`/ready`: the database answers). */
export const healthRoutes: Feature = (app, ctx) => {
  const publicRoute = { config: { roles: 'public' as const }, schema: { hide: true } };
  app.get('/ping', { config: { roles: 'public' }, schema: { tags: ['health'] } }, async () => ({
    status: 'ok',
    message: 'pong',
  }));
  app.get('/health', publicRoute, async () => ({ status: 'ok' }));
  app.get('/ready', publicRoute, async (_request, reply) => {
    try {
      await ctx.db.query('SELECT 1');
      return { status: 'ready', database: ctx.db.kind };
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', reason: (error as Error).message });
    }
  });
};
