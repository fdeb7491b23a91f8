// The broker with the store, the catalog and the real templates, over real HTTP: bursts of
// changes coalesce (the first after a quiet spell at once, within the same turn of the event
// loop), and a page that connects while a change is being fanned out does not end
// up with a snapshot older than what the others were sent.
import http from 'node:http';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Eta } from 'eta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmStore } from '../../src/farm/store.js';
import { toPoolView } from '../../src/kube/slim.js';
import { Broker } from '../../src/live/broker.js';
import { FragmentCatalog } from '../../src/live/fragments.js';
import { waitFor } from '../helpers/cluster.js';
import { openStream, type SseStream } from '../helpers/sse.js';

const eta = new Eta({ views: join(import.meta.dirname, '..', '..', 'views'), autoEscape: true, autoTrim: [false, 'nl'] });

function pool(state: 'Idle' | 'Busy', rv: string, others: Array<'Idle' | 'Busy'> = ['Idle']) {
  return toPoolView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DevicePool',
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: rv, creationTimestamp: '2026-11-23T10:00:00Z', generation: 1 },
    spec: { templateRef: { name: 't' }, replicas: 1 + others.length },
    status: { devices: [{ name: 'p-0', state }, ...others.map((s, i) => ({ name: `p-${i + 1}`, state: s }))] },
  });
}

describe('a page connecting during a fan-out', () => {
  const store = new FarmStore();
  const catalog = new FragmentCatalog(store, { origins: [], allowHttp: false });
  // Renders of the grid wait for this gate while it is closed: that is the snapshot.
  let gate: Promise<void> | undefined;
  let openGate = () => {};
  const broker = new Broker({
    store,
    catalog,
    coalesceMs: 200,
    log: { warn: () => {}, error: () => {} },
    render: async (template, data) => {
      if (template === '/partials/device-grid' && gate) await gate;
      return eta.renderAsync(template, data);
    },
  });
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    void broker.connect(res, ['pool:ns/p'], undefined);
  });
  let base = '';
  const streams: SseStream[] = [];

  beforeAll(async () => {
    store.applyPool('added', pool('Idle', '1'));
    store.setSync({ synced: true, stale: false, detail: [] });
    broker.start();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    broker.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gets the change the others got while its snapshot rendered', async () => {
    const first = await openStream(`${base}/live`);
    streams.push(first);
    await first.next((e) => e.data.includes('device-grid__ns__p'));

    gate = new Promise((resolve) => (openGate = resolve));
    const late = await openStream(`${base}/live`);
    streams.push(late);
    // The late page's snapshot is rendering (held); now p-0 turns Busy and goes out.
    await waitFor('the late page to be rendering', () => broker.stats().clients === 1 && late.events.length === 0);
    const from = first.events.length;
    store.applyPool('modified', pool('Busy', '2'));
    await first.next((e) => e.data.includes('tile__ns__p__p-0') && e.data.includes('data-state="Busy"'), { from });
    gate = undefined;
    openGate();

    const snapshot = await late.next((e) => e.data.includes('device-grid__ns__p'));
    // The grid as the snapshot rendered it, then the newer tile on top of it.
    const grid = snapshot.data.indexOf('device-grid__ns__p');
    const tile = snapshot.data.lastIndexOf('id="tile__ns__p__p-0"');
    expect(tile).toBeGreaterThan(grid);
    expect(snapshot.data.slice(tile, snapshot.data.indexOf('>', tile))).toContain('data-state="Busy"');
  });
});

describe('a page connecting between an event being rendered and written', () => {
  // One flush renders every topic's event before writing any. A page that connects after the
  // farm's event is rendered (kept in history) but before it is written gets it folded into
  // its snapshot, and must not get it a second time as an event.
  const store = new FarmStore();
  let gate: Promise<void> | undefined;
  let openGate = () => {};
  let gated = false;
  const broker = new Broker({
    store,
    catalog: new FragmentCatalog(store, { origins: [], allowHttp: false }),
    coalesceMs: 200,
    log: { warn: () => {}, error: () => {} },
    render: async (template, data) => {
      if (template === '/partials/pool-header' && gate) {
        gated = true;
        await gate;
      }
      return eta.renderAsync(template, data);
    },
  });
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    void broker.connect(res, [new URL(req.url!, 'http://x').searchParams.get('topic')!], undefined);
  });
  const streams: SseStream[] = [];

  afterAll(async () => {
    for (const s of streams) s.close();
    broker.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gets it once, in its snapshot, while the viewers already there get it as an event', async () => {
    store.applyPool('added', pool('Idle', '1'));
    store.setSync({ synced: true, stale: false, detail: [] });
    broker.start();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/live`;
    const open = async (topic: string) => {
      const stream = await openStream(`${base}?topic=${topic}`);
      streams.push(stream);
      return stream;
    };
    const card = (e: { data: string }) => e.data.includes('id="pool-card__ns__p"');
    // The card's idle capacity: 2 with both devices Idle, 1 once p-0 is Busy.
    const busy = (e: { data: string }) => card(e) && e.data.includes('data-idle-capacity>1<');
    const viewer = await open('farm');
    await viewer.next(card);
    const poolPage = await open('pool:ns/p');
    await poolPage.next((e) => e.data.includes('pool-header__ns__p'));
    await waitFor('both registered', () => broker.stats().clients === 2);

    // The farm's event is rendered first; the pool page's header then waits at the gate.
    gate = new Promise((resolve) => (openGate = resolve));
    const from = viewer.events.length;
    store.applyPool('modified', pool('Busy', '2'));
    await waitFor('the flush to reach the pool header', () => gated);
    expect(viewer.events.length).toBe(from); // nothing written before every event is rendered

    const late = await open('farm');
    await late.next(busy);
    await waitFor('the late page registered', () => broker.stats().clients === 3);
    gate = undefined;
    openGate();
    const sent = await viewer.next(busy, { from });

    // A later change, so the late page's stream has had the time to show a duplicate.
    store.applyPool('modified', pool('Idle', '3'));
    await late.next((e) => card(e) && e.data.includes('data-idle-capacity>2<') && e.id !== sent.id);
    expect(late.events.filter((e) => e.id === sent.id && card(e))).toEqual([]);
  });
});

/** A pool page's stream from a broker that has sent nothing yet (a quiet spell), 1 s windows. */
function quietPoolStream() {
  const store = new FarmStore();
  const broker = new Broker({
    store,
    catalog: new FragmentCatalog(store, { origins: [], allowHttp: false }),
    coalesceMs: 1000,
    log: { warn: () => {}, error: () => {} },
    render: (template, data) => eta.renderAsync(template, data),
  });
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    void broker.connect(res, ['pool:ns/p'], undefined);
  });
  let stream: SseStream | undefined;
  /** Ten devices, the first `busy` of them Busy, as watch event number `rv`. */
  const change = (busy: number, rv: number) => {
    const states = Array.from({ length: 10 }, (_, d) => (d < busy ? 'Busy' : 'Idle'));
    store.applyPool('modified', pool(states[0]!, String(rv), states.slice(1)));
  };
  return {
    store,
    broker,
    change,
    async open(): Promise<SseStream> {
      store.applyPool('added', pool('Idle', '1', Array<'Idle' | 'Busy'>(9).fill('Idle')));
      store.setSync({ synced: true, stale: false, detail: [] });
      broker.start();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      stream = await openStream(`http://127.0.0.1:${(server.address() as AddressInfo).port}/live`);
      await stream.next((e) => e.data.includes('device-grid__ns__p'));
      await waitFor('the page registered', () => broker.stats().clients === 1);
      return stream;
    },
    async close(): Promise<void> {
      stream?.close();
      broker.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a burst of changes', () => {
  const farm = quietPoolStream();
  afterAll(() => farm.close());

  it('goes out as few events, the first at once and the rest together, ending in the latest state', async () => {
    const stream = await farm.open();
    const { broker, change } = farm;
    // Nothing has been flushed yet: the burst starts after a quiet spell.
    const from = stream.events.length;

    // Ten watch events, each turning one more device Busy. The first, after a quiet spell,
    // goes out at once; the nine that follow within the window go out together after it.
    const sentBefore = broker.stats().eventsSent;
    let sentWithinTheTurn: boolean | undefined;
    setImmediate(() => (sentWithinTheTurn = broker.stats().eventsSent > sentBefore));
    change(1, 2);
    const first = await stream.next((e) => e.data.includes('id="tile__ns__p__p-0"'), { from });
    // Handed to the sockets before the event loop moved on: a timer would have waited for the
    // loop's whole poll phase, which during a connect storm runs hundreds of connects first.
    expect(sentWithinTheTurn).toBe(true);
    for (let i = 1; i < 10; i++) {
      change(i + 1, i + 2);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const last = await stream.next((e) => e.data.includes('id="tile__ns__p__p-9"'), { from });
    const events = stream.events.slice(from, stream.events.indexOf(last) + 1);
    expect(events).toEqual([first, last]);
    expect(first.data.match(/id="tile__/g)).toHaveLength(1);
    expect(last.data.match(/id="tile__/g)).toHaveLength(9);
    for (let d = 0; d < 10; d++) expect(events.map((e) => e.data).join('')).toMatch(new RegExp(`id="tile__ns__p__p-${d}"[^>]*data-state="Busy"`));
  });
});

describe('watch events that arrive in one read', () => {
  const farm = quietPoolStream();
  afterAll(() => farm.close());

  it('go out together after a quiet spell, as one event', async () => {
    const stream = await farm.open();
    const from = stream.events.length;
    // As the cluster reads a watch (src/kube/kube-cluster.ts): line by line with readline, a
    // microtask per line when the lines came in one chunk.
    const lines = createInterface({ input: Readable.from(['1\n2\n3\n']) });
    for await (const line of lines) farm.change(Number(line), Number(line) + 1);
    // Still in that chain of microtasks, before the flush's own turn: settle() starts it (a loop
    // of awaits alone would never let the turn come).
    await farm.broker.settle();
    const event = await stream.next((e) => e.data.includes('id="tile__ns__p__p-2"'), { from });
    expect(event.data.match(/id="tile__/g)).toHaveLength(3);
    expect(stream.events.slice(from)).toEqual([event]);
  });
});

describe('a page connecting while the broker closes', () => {
  it('is ended with the shutdown hint instead of being left open (which would hold app.close() forever)', async () => {
    const store = new FarmStore();
    store.applyPool('added', pool('Idle', '1'));
    store.setSync({ synced: true, stale: false, detail: [] });
    let renderStarted = false;
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const broker = new Broker({
      store,
      catalog: new FragmentCatalog(store, { origins: [], allowHttp: false }),
      log: { warn: () => {}, error: () => {} },
      render: async (template, data) => {
        if (template === '/partials/device-grid') {
          renderStarted = true;
          await gate;
        }
        return eta.renderAsync(template, data);
      },
    });
    broker.start();
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      void broker.connect(res, ['pool:ns/p'], undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const body = new Promise<string>((resolve, reject) => {
        http
          .get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      // The snapshot is being rendered when the broker closes (a shutdown during a connect).
      await waitFor('the snapshot render to start', () => renderStarted);
      broker.close();
      openGate();
      expect(await body).toContain('event: shutdown');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
