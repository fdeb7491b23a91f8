// src/http/closing.ts on a plain Node server (keep-alive 72 s, as Fastify sets it): at close, a
// connection with no answer under way goes at once; one still being answered only after its
// answer, even behind a pipelined one, and no later than that.
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { trackConnections } from '../../src/http/closing.js';
import { waitFor } from '../helpers/cluster.js';

const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(handler: (url: string, res: ServerResponse) => void) {
  const server = createServer({ keepAliveTimeout: 72_000 }, (req, res) => handler(req.url ?? '', res));
  servers.push(server);
  const letGo = trackConnections(server as unknown as FastifyInstance['server']);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await Promise.all([once(socket, 'connect'), accepted]);
  let received = '';
  socket.setEncoding('utf8').on('data', (d: string) => (received += d));
  const closed = once(socket, 'close');
  return { letGo, socket, received: () => received, closed };
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`;
const closedSoon = (socket: { destroyed: boolean }) => waitFor('the server to close the connection', () => socket.destroyed, { timeoutMs: 5_000 });

describe('letting connections go at close', () => {
  it('closes a connection that has sent no request', async () => {
    const { letGo, socket, closed } = await serve(() => {});
    letGo();
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('keeps a connection until its answer is sent, including a pipelined second request, which says Connection: close', async () => {
    const pending: ServerResponse[] = [];
    const { letGo, socket, received } = await serve((url, res) => (url === '/first' ? res.end('one') : pending.push(res)));
    socket.write(get('/first') + get('/second'));
    await waitFor('the first answer and the second request', () => received().includes('one') && pending.length === 1);
    letGo();
    await new Promise((r) => setImmediate(r));
    expect(socket.destroyed).toBe(false);
    pending[0]!.end('two');
    await closedSoon(socket);
    const second = received().slice(received().indexOf('one'));
    expect(second).toContain('two');
    expect(second).toMatch(/^connection: close/im);
  });

  it('lets a connection go once an answer begun before the close (a stream) ends, not after the keep-alive timeout', async () => {
    const pending: ServerResponse[] = [];
    const { letGo, socket, received } = await serve((_url, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.flushHeaders();
      pending.push(res);
    });
    socket.write(get('/live'));
    await waitFor('the stream to begin', () => received().includes('keep-alive') && pending.length === 1);
    letGo();
    pending[0]!.end('event: shutdown\ndata: bye\n\n');
    await closedSoon(socket);
    expect(received()).toContain('data: bye');
  });
});
