// The embedded demo's stand-in for a device's WebRTC page, so "open stream" shows
// something without a real Cuttlefish. Registered only in demo mode.
import type { FastifyInstance } from 'fastify';

export default async function demoRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { namespace: string; device: string } }>('/demo/stream/:namespace/:device', async (request, reply) => {
    const { namespace, device } = request.params;
    const d = app.farm.store.listPools(namespace).flatMap((p) => p.devices).find((x) => x.name === device);
    // Framed by the dashboard itself: this page alone may be framed, and only by us.
    reply.header('Content-Security-Policy', "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'self'");
    return reply.view('/pages/demo-stream', { device, state: d?.state ?? 'unknown', session: d?.session ?? '' });
  });
}
