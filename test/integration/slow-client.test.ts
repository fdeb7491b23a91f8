// A subscriber that stops reading must neither delay the others nor make the server hold
// unbounded data for it: it is dropped once it is too far behind.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createTemplate, devices, setDevices, type DeviceState } from '../helpers/farm.js';
import { openStream } from '../helpers/sse.js';

const DEVICES = 300;
const MAX_PENDING = 256 * 1024;
const PADDING = 'adb reports the emulator is slow to answer; '.repeat(20);

describe('a live client that stops reading', () => {
  let namespace: string;
  let app: FastifyInstance;
  let port: number;
  let slow: net.Socket | undefined;

  beforeAll(async () => {
    namespace = await freshNamespace('slow');
    await createTemplate(namespace);
    await createPool(namespace, 'churn', DEVICES);
    await setDevices(namespace, 'churn', devices('churn', DEVICES));
    // Tight limits so the test needs megabytes, not gigabytes, of churn.
    app = await startDashboard({ namespaces: [namespace], live: { limits: { maxPendingBytes: MAX_PENDING, maxBlockedMs: 60_000 } } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    await waitFor('pool synced', () => app.farm.store.getPool(namespace, 'churn')?.devices.length === DEVICES);
  });
  afterAll(async () => {
    slow?.destroy();
    await app?.close();
  });

  it('is dropped with bounded memory while a reading client keeps getting every change', async () => {
    const topic = encodeURIComponent(`pool:${namespace}/churn`);
    slow = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => slow!.once('connect', resolve));
    slow.write(`GET /live?topic=${topic} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n`);
    slow.pause(); // never read again: the kernel buffers fill, then the server's write() says stop
    let slowClosed = false;
    slow.on('close', () => (slowClosed = true));

    const fast = await openStream(`http://127.0.0.1:${port}/live?topic=${topic}`);
    await fast.next((e) => e.event === 'update');
    await waitFor('both clients registered', () => app.farm.broker.stats().clients === 2);

    const latencies: number[] = [];
    let maxHeld = 0;
    const states: DeviceState[] = ['Busy', 'Idle'];
    for (let round = 0; round < 150 && app.farm.broker.stats().dropped === 0; round++) {
      const state = states[round % 2]!;
      const from = fast.events.length;
      const start = Date.now();
      // Every device changes, so every round sends all tiles: about 500 KB per event.
      await setDevices(namespace, 'churn', devices('churn', DEVICES, state).map((d) => ({ ...d, message: `round ${round} ${PADDING}` })));
      const event = await fast.next((e) => e.data.includes(`round ${round}`) && e.data.includes(`data-state="${state}"`), { from });
      latencies.push(event.receivedAt - start);
      maxHeld = Math.max(maxHeld, app.farm.broker.stats().maxHeldBytes);
    }

    expect(app.farm.broker.stats().dropped, `not dropped after ${latencies.length} rounds`).toBe(1);
    // Reading again, the slow client finds its stream ended by the server.
    slow.on('data', () => undefined);
    slow.resume();
    await waitFor('the slow socket closed by the server', () => slowClosed);
    expect(app.farm.broker.stats().clients).toBe(1);
    // What the server held for the slow client never went past its bound (plus one event).
    expect(maxHeld).toBeLessThanOrEqual(MAX_PENDING + 700 * 1024);
    // The reader got every round (each awaited above before the next write), so the stuck
    // client never held up the fan-out. How fast is for the benchmark (docs/benchmarks.md),
    // not for an assertion on a loaded test machine; the figure is printed for the record.
    expect(latencies.length).toBeGreaterThan(0);
    console.log(`[slow-client] ${latencies.length} rounds; reader latency max ${Math.max(...latencies)} ms`);
    fast.close();
  });
});
