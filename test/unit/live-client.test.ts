import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { LiveClient, type DropReason } from '../../src/live/client.js';

/** A response whose socket takes writes until `full`, then refuses them until drain(). */
class Response extends EventEmitter {
  written: string[] = [];
  full = false;
  destroyed = false;
  writableEnded = false;
  headersSent = false;
  write(text: Buffer | string): boolean {
    this.written.push(String(text));
    return !this.full;
  }
  end(text?: string): void {
    if (text) this.written.push(text);
    this.writableEnded = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  drain(): void {
    this.full = false;
    this.emit('drain');
  }
}

function setup(limits = { maxPendingBytes: 100, maxBlockedMs: 1000 }) {
  const res = new Response();
  let now = 0;
  const drops: DropReason[] = [];
  const client = new LiveClient(
    res as unknown as ServerResponse,
    ['pool:a/b'],
    limits,
    (_c, reason) => drops.push(reason),
    () => now,
    (id, pending) => `id: ${id}\n${[...pending].map(([k, v]) => `${k}=${v}`).join(';')}\n\n`,
  );
  return { res, client, drops, advance: (ms: number) => (now += ms) };
}

const frag = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('LiveClient backpressure', () => {
  it('writes each event while the socket keeps up', () => {
    const { res, client } = setup();
    client.send('1', 'event 1', frag({ a: 'A1' }));
    client.send('2', 'event 2', frag({ a: 'A2' }));
    expect(res.written).toEqual(['event 1', 'event 2']);
  });

  it('once blocked, keeps only the latest version of each fragment and sends them as one event on drain', () => {
    const { res, client, drops } = setup();
    res.full = true;
    client.send('1', 'event 1', frag({ a: 'A1' })); // written, but the socket is now full
    client.send('2', 'event 2', frag({ a: 'A2', b: 'B2' }));
    client.send('3', 'event 3', frag({ a: 'A3' }));
    expect(res.written).toEqual(['event 1']);
    expect(client.heldBytes).toBe('A3'.length + 'B2'.length);
    res.drain();
    expect(res.written).toEqual(['event 1', 'id: 3\na=A3;b=B2\n\n']);
    expect(client.heldBytes).toBe(0);
    client.send('4', 'event 4', frag({ a: 'A4' }));
    expect(res.written.at(-1)).toBe('event 4');
    expect(drops).toEqual([]);
  });

  it('drops a blocked client whose held fragments pass the byte limit, and destroys its socket', () => {
    const { res, client, drops } = setup({ maxPendingBytes: 10, maxBlockedMs: 60_000 });
    res.full = true;
    client.send('1', 'event 1', frag({ a: 'x' }));
    client.send('2', 'event 2', frag({ a: 'x'.repeat(10) }));
    expect(drops).toEqual([]);
    client.send('3', 'event 3', frag({ b: 'y' }));
    expect(drops).toEqual(['slow']);
    expect(res.destroyed).toBe(true);
    expect(client.isEnded).toBe(true);
    client.send('4', 'event 4', frag({ a: 'z' }));
    expect(res.written).toEqual(['event 1']);
  });

  it('drops a client blocked for too long, by a new event or by the stall check alone', () => {
    const a = setup();
    a.res.full = true;
    a.client.send('1', 'e', frag({ a: '1' }));
    a.advance(1000);
    a.client.checkStalled();
    expect(a.drops).toEqual([]);
    a.advance(1);
    a.client.checkStalled();
    expect(a.drops).toEqual(['slow']);

    const b = setup();
    b.res.full = true;
    b.client.send('1', 'e', frag({ a: '1' }));
    b.advance(1001);
    b.client.send('2', 'e', frag({ a: '2' }));
    expect(b.drops).toEqual(['slow']);
  });

  it('writes a backlog whole even past the high-water mark, and control lines only while keeping up', () => {
    const { res, client } = setup();
    res.full = true;
    client.sendBacklog('snapshot');
    client.sendBacklog('more backlog');
    client.sendControl(': keep-alive\n\n');
    expect(res.written).toEqual(['snapshot', 'more backlog']);
    res.drain();
    client.sendControl(': keep-alive\n\n');
    expect(res.written.at(-1)).toBe(': keep-alive\n\n');
  });

  it('ends cleanly once: a closed connection is reported, later sends do nothing', () => {
    const { res, client, drops } = setup();
    res.emit('close');
    client.end('shutdown');
    client.send('1', 'e', frag({ a: '1' }));
    expect(drops).toEqual(['closed']);
    expect(res.written).toEqual([]);
  });
});
