// Compression of what the dashboard sends (@fastify/compress): pages, JSON and static
// assets go out brotli or gzip to clients that accept it (a 500-device pool page: 178 KB
// raw, ~10 KB gzip, ~7 KB br). Brotli at quality 4 costs about what gzip does.
//
// Streams are never compressed: a compressor holds bytes back until its block fills, which
// would stall a live stream. The SSE streams (/live, /api/v1/events) write to the hijacked
// raw response, which the plugin never sees (and it skips text/event-stream anyway); a
// streamed response sent through Fastify (a followed runner log) says
// `Cache-Control: no-transform`, and this honours it: no-transform means leave the bytes be.
import fastifyCompress from '@fastify/compress';
import type { FastifyInstance } from 'fastify';

export async function registerCompression(app: FastifyInstance): Promise<void> {
  // Runs before the plugin's own onSend hook (hooks run in the order they were added).
  app.addHook('onSend', async (request, reply, payload) => {
    if (/\bno-transform\b/i.test(String(reply.getHeader('cache-control') ?? ''))) request.headers['x-no-compression'] = '1';
    return payload;
  });
  await app.register(fastifyCompress, { global: true, encodings: ['br', 'gzip'], threshold: 1024 });
}
