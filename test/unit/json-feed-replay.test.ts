// The JSON event stream over real HTTP: a script that reconnects with Last-Event-ID gets
// exactly the events it missed, all of them, even when they are far more than one socket
// buffer (~64 KB) and it reads slowly; an id older than what is kept gets a `reset`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmStore } from '../../src/farm/store.js';
import { toPoolView } from '../../src/kube/slim.js';
import { JsonFeed } from '../../src/live/json-feed.js';
import { waitFor } from '../helpers/cluster.js';
import { SseParser, type ParsedEvent } from '../helpers/sse-parse.js';

const PADDING = 'adb: emulator slow to answer; '.repeat(30);

function pool(round: number) {
  return toPoolView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DevicePool',
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: String(round + 1), creationTimestamp: '2026-11-23T10:00:00Z', generation: 1 },
    spec: { templateRef: { name: 't' }, replicas: 1 },
    status: { devices: [{ name: 'p-0', state: 'Idle', message: `round ${round} ${PADDING}` }] },
  });
}

/** Opens the stream but reads nothing until `read` is called: the server's socket fills meanwhile. */
async function openLazy(url: string, lastEventId?: string) {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: abort.signal });
  const reader = res.body!.getReader();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  return {
    close: () => abort.abort(),
    /** Reads, slowly, until `done` holds for what arrived. */
    async read(done: (events: ParsedEvent[]) => boolean, timeoutMs = 10_000): Promise<ParsedEvent[]> {
      const deadline = Date.now() + timeoutMs;
      while (!done(parser.events)) {
        if (Date.now() > deadline) throw new Error(`timed out with ${parser.events.length} events`);
        const { value, done: ended } = await reader.read();
        if (ended) break;
        parser.push(decoder.decode(value, { stream: true }));
        await new Promise((resolve) => setImmediate(resolve)); // a slow reader
      }
      return parser.events;
    },
  };
}

const seqOf = (id: string) => Number(id.split('-')[1]);

describe('Last-Event-ID on the JSON event stream', () => {
  const store = new FarmStore();
  const feed = new JsonFeed(store, { replay: { maxEvents: 1_000 } });
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    const last = req.headers['last-event-id'];
    feed.connect(res, {}, typeof last === 'string' ? last : undefined);
  });
  let base = '';
  let round = 0;

  beforeAll(async () => {
    store.applyPool('added', pool(round++));
    feed.start();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    feed.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('replays every missed event, far past one socket buffer, to a slow reader', async () => {
    const first = await openLazy(`${base}/events`);
    const [reset] = await first.read((e) => e.length >= 1);
    expect(reset!.event).toBe('reset');
    first.close();
    await waitFor('the first client gone', () => feed.stats().clients === 0);

    // 400 device changes of ~1 KB each while nobody listens: about 400 KB to replay.
    const missed = 400;
    for (let i = 0; i < missed; i++) store.applyPool('modified', pool(round++));
    const lastSeq = seqOf(reset!.id) + missed;

    const again = await openLazy(`${base}/events`, reset!.id);
    await waitFor('the reconnected client registered', () => feed.stats().clients === 1);
    const events = await again.read((e) => e.length > 0 && seqOf(e.at(-1)!.id) >= lastSeq);
    again.close();
    expect(events.map((e) => e.event)).toEqual(Array(missed).fill('device'));
    expect(events.map((e) => seqOf(e.id))).toEqual(Array.from({ length: missed }, (_, i) => seqOf(reset!.id) + 1 + i));
    expect(JSON.parse(events.at(-1)!.data).device.message).toContain(`round ${round - 1} `);
  });

  it('answers an id older than what is kept with a reset event', async () => {
    const first = await openLazy(`${base}/events`);
    const [reset] = await first.read((e) => e.length >= 1);
    first.close();
    await waitFor('the first client gone', () => feed.stats().clients === 0);
    for (let i = 0; i < 1_100; i++) store.applyPool('modified', pool(round++));

    const again = await openLazy(`${base}/events`, reset!.id);
    const events = await again.read((e) => e.length >= 1);
    again.close();
    expect(events[0]!.event).toBe('reset');
    expect(JSON.parse(events[0]!.data).reason).toMatch(/no longer available/);
    expect(feed.stats().historyEvents).toBe(1_000);
  });
});
