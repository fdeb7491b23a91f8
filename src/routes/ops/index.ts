// Probes for Kubernetes and load balancers. /healthz: the process can serve. /readyz: it
// has data worth serving (every watch listed once) and is not shutting down. /metrics:
// Prometheus (see metrics.ts).
import type { FastifyInstance } from 'fastify';
import metricsRoutes from './metrics.js';

const str = { type: 'string' } as const;
const HEALTHZ = { summary: 'The process can serve', response: { 200: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } } } };
const ready = { type: 'object', required: ['status', 'synced', 'stale', 'reasons'], properties: { status: { enum: ['ready', 'not ready'] }, synced: { type: 'boolean' }, stale: { type: 'boolean' }, reasons: { type: 'array', items: str } } } as const;
const READYZ = { summary: 'Every watch has listed once, and the process is not shutting down', response: { 200: ready, 503: ready } };

export default async function opsRoutes(app: FastifyInstance): Promise<void> {
  await app.register(metricsRoutes);

  app.get('/healthz', { schema: HEALTHZ }, async (_request, reply) => reply.header('Cache-Control', 'no-store').send({ status: 'ok' }));

  app.get('/readyz', { schema: READYZ }, async (_request, reply) => {
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
