// Probes for Kubernetes and load balancers. /healthz: the process can serve. /readyz: it
// has data worth serving (every watch listed once) and is not shutting down. /metrics:
// Prometheus (see metrics.ts).
import type { FastifyInstance } from 'fastify';
import metricsRoutes from './metrics.js';

export default async function opsRoutes(app: FastifyInstance): Promise<void> {
  await app.register(metricsRoutes);

  app.get('/healthz', async (_request, reply) => reply.header('Cache-Control', 'no-store').send({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const { store, draining } = app.farm;
    const sync = store.syncStatus();
    const ready = sync.synced && !draining;
    const reasons = draining ? ['shutting down'] : sync.detail;
    return reply
      .code(ready ? 200 : 503)
      .header('Cache-Control', 'no-store')
      .send({ status: ready ? 'ready' : 'not ready', synced: sync.synced, stale: sync.stale, reasons });
  });
}
