// A page that connects while a change is being fanned out must not end up with a snapshot
// older than what the others were sent. Broker, catalog, store and the real templates, with
// real HTTP; the snapshot's render is held back on purpose so the change lands meanwhile.
import http from 'node:http';
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

function pool(state: 'Idle' | 'Busy', rv: string) {
  return toPoolView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DevicePool',
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: rv, creationTimestamp: '2026-11-23T10:00:00Z', generation: 1 },
    spec: { templateRef: { name: 't' }, replicas: 2 },
    status: { devices: [{ name: 'p-0', state }, { name: 'p-1', state: 'Idle' }] },
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
    coalesceMs: 5,
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
