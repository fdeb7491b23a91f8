// A stand-in for the farm's WebRTC relay for browser tests: one small page per device at
// /devices/<name>/, on its own loopback port, so pages embed it cross-origin like the real relay.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StreamStandIn {
  origin: string;
  /** Every request it answered: what the browser sent it. */
  requests: Array<{ url: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/**
 * A stand-in for the farm's WebRTC relay: one small page per device at /devices/<name>/,
 * on its own loopback port, so the dashboard embeds it cross-origin like the real relay.
 */
export async function startStreamStandIn(): Promise<StreamStandIn> {
  const requests: StreamStandIn['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const device = /^\/devices\/([a-z0-9-]+)\/$/.exec(req.url ?? '')?.[1];
    if (!device) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><title>${device} stream</title></head><body><h1>Stand-in stream of ${device}</h1></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
