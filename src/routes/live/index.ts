// GET /live?topic=…: the page's one EventSource. Headers go out at once (an empty 200 would
// look like a dead stream), compression and proxy buffering are off (the stream writes to
// the hijacked raw response, which @fastify/compress never sees), streams are capped in
// all and per client address, and the broker owns the connection from there.
import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../http/errors.js';
import { isTopic } from '../../live/fragments.js';

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
  'X-Content-Type-Options': 'nosniff',
} as const;

const MAX_TOPICS = 8;

export default async function liveRoutes(app: FastifyInstance): Promise<void> {
  app.get('/live', async (request, reply) => {
    const raw = (request.query as { topic?: string | string[] }).topic;
    const topics = [...new Set(Array.isArray(raw) ? raw : raw ? [raw] : [])];
    if (topics.length === 0 || topics.length > MAX_TOPICS || !topics.every(isTopic)) {
      throw badRequest(`Subscribe to 1 to ${MAX_TOPICS} topics such as farm, pools, pool:<namespace>/<name> or device:<namespace>/<pool>/<device>.`);
    }
    // Counted until the response closes; past a cap, a 503 or 429 with Retry-After.
    app.farm.admission.admit(request.ip, reply.raw);
    reply.hijack();
    reply.raw.writeHead(200, SSE_HEADERS);
    reply.raw.flushHeaders();
    const lastEventId = request.headers['last-event-id'];
    await app.farm.broker.connect(reply.raw, topics, typeof lastEventId === 'string' ? lastEventId : undefined);
  });
}
