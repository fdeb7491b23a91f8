// src/http/closing.ts on a plain Node server: at close, a connection with no answer under way
// goes at once, one still being answered only after its answer, even behind a pipelined one.
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { trackConnections } from '../../src/http/closing.js';

const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(handler: (url: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => handler(req.url ?? '', res));
  servers.push(server);
  const letGo = trackConnections(server as unknown as FastifyInstance['server']);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('utf8').on('data', (d: string) => (received += d));
  return { server, letGo, socket, received: () => received };
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`;
const until = async (what: () => boolean) => {
  while (!what()) await new Promise((r) => setImmediate(r));
};

describe('letting connections go at close', () => {
  it('closes a connection that has sent no request', async () => {
    const { letGo, socket } = await serve(() => {});
    const closed = once(socket, 'close');
    letGo();
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('keeps a connection until its answer is sent, including a pipelined second request', async () => {
    const pending: ServerResponse[] = [];
    const { letGo, socket, received } = await serve((url, res) => (url === '/first' ? res.end('one') : pending.push(res)));
    socket.write(get('/first') + get('/second'));
    await until(() => received().includes('one') && pending.length === 1);
    letGo();
    await new Promise((r) => setImmediate(r));
    expect(socket.destroyed).toBe(false);
    const closed = once(socket, 'close');
    pending[0]!.end('two');
    await closed; // the keep-alive timeout is now 1 ms: the connection goes once idle
    expect(received()).toContain('two');
  });
});
