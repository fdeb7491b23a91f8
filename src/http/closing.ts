// Closing without waiting on connections that will never finish by themselves. Fastify's
// close calls server.close(), which closes the connections idle at that moment and waits
// for every other one. Two kinds would hold it far past the shutdown's 20 s deadline:
// - a connection that has sent no request yet (a browser's preconnect, opened for a page it
//   may load): Node counts it as receiving one, and stops checking the headers timeout once
//   the server closes. Chromium kept one open for over a minute.
// - a connection whose answer is still being made (a stream's snapshot rendering, a page):
//   once sent, it is kept alive for Fastify's keepAliveTimeout of 72 s.
// New requests meanwhile get a 503 with Connection: close from Fastify itself.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** Watches the server's connections; the returned function, called as the close begins, lets every one go once it has no answer under way. */
export function trackConnections(server: FastifyInstance['server']): () => void {
  const open = new Set<Socket>();
  /** Answers under way per connection (more than one only when a client pipelines). */
  const answering = new Map<Socket, Set<ServerResponse>>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      answering.delete(socket);
    });
  });
  server.on('request', (request, response: ServerResponse) => {
    const socket: Socket = request.socket;
    let answers = answering.get(socket);
    if (!answers) answering.set(socket, (answers = new Set()));
    answers.add(response);
    response.once('close', () => {
      answers.delete(response);
      if (answers.size === 0) answering.delete(socket);
    });
  });
  return () => {
    for (const socket of open) if (!answering.has(socket)) socket.destroy();
    // An answer not begun yet says Connection: close, so its client does not reuse the
    // connection; one already begun (a stream) is let go as soon as it is idle after it.
    for (const answers of answering.values()) for (const response of answers) if (!response.headersSent) response.shouldKeepAlive = false;
    server.keepAliveTimeout = 1;
    if ('keepAliveTimeoutBuffer' in server) server.keepAliveTimeoutBuffer = 0;
  };
}
