// GET /metrics: Prometheus text format for monitoring. It reports what exists, synced or
// not (a dashboard stuck before its first list is exactly what an alert wants to see), is
// never cached, and needs no login: it is meant for scrapers inside the cluster.
import type { FastifyInstance } from 'fastify';

export default async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await app.farm.metrics.scrape();
    return reply.header('Content-Type', contentType).header('Cache-Control', 'no-store').send(body);
  });
}
