// GET /metrics against the real API server: the farm's gauges are exactly what is in the
// cluster, a boot and a finished session each show in their histogram once, live clients
// show while connected, and the text is valid Prometheus exposition format.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, setDevices, setSessionStatus, type TestDevice } from '../helpers/farm.js';
import { openStream, type SseStream } from '../helpers/sse.js';

type Labels = Record<string, string>;
interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (-?(?:[0-9]+(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?|\.[0-9]+)|[Nn]a[Nn]|[+-]Inf)$/;

/**
 * Parses the exposition text; throws on any line that is neither a comment nor a sample.
 * Values as Prometheus reads them (Go's ParseFloat): prom-client writes NaN as "Nan", for
 * instance the event loop lag mean before its first sample.
 */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || COMMENT.test(line)) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus text line: ${JSON.stringify(line)}`);
    const labels: Labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

const sameLabels = (a: Labels, b: Labels) => Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);

const BOOT_START = '2026-05-01T10:00:00Z';

describe('GET /metrics against the real API server', () => {
  let namespace: string;
  let app: FastifyInstance;
  let base: string;
  const streams: SseStream[] = [];

  const scrape = async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    return parse(res.body);
  };
  /** The value of the one sample with exactly these labels, or undefined. */
  const value = (samples: Sample[], name: string, labels: Labels): number | undefined => {
    const found = samples.filter((s) => s.name === name && sameLabels(s.labels, labels));
    expect(found.length).toBeLessThanOrEqual(1);
    return found[0]?.value;
  };
  const ns = (labels: Labels = {}) => ({ namespace, ...labels });

  // alpha: 2 Idle (one booted before the dashboard started), 1 Busy, 1 Unhealthy.
  // beta: 1 Booting, 2 Idle. empty: no devices.
  const alpha: TestDevice[] = [
    { name: 'alpha-0', state: 'Idle', bootStartedAt: '2026-05-01T09:00:00Z', readyAt: '2026-05-01T09:01:10Z' } as TestDevice,
    { name: 'alpha-1', state: 'Idle' },
    { name: 'alpha-2', state: 'Busy', session: 'running-1' },
    { name: 'alpha-3', state: 'Unhealthy', message: 'adb offline' },
  ];
  const booting = { name: 'beta-0', state: 'Booting', bootStartedAt: BOOT_START } as TestDevice;
  const beta = (first: TestDevice): TestDevice[] => [first, { name: 'beta-1', state: 'Idle' }, { name: 'beta-2', state: 'Idle' }];

  beforeAll(async () => {
    namespace = await freshNamespace('metrics');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 4);
    await createPool(namespace, 'beta', 3);
    await createPool(namespace, 'empty', 0);
    await setDevices(namespace, 'alpha', alpha);
    await setDevices(namespace, 'beta', beta(booting));
    for (const name of ['queued-1', 'queued-2']) await createSession(namespace, name, { pool: 'alpha' });
    await createSession(namespace, 'queued-ghost', { pool: 'ghost' });
    await createSession(namespace, 'assigned-1', { pool: 'beta' });
    await setSessionStatus(namespace, 'assigned-1', { phase: 'Assigned', assignedAt: '2026-05-01T10:05:00Z' });
    await createSession(namespace, 'running-1', { pool: 'alpha' });
    await setSessionStatus(namespace, 'running-1', { phase: 'Running', startTime: '2026-05-01T10:00:00Z' });
    // Finished before the dashboard started: counted in the gauge, never in the histogram.
    await createSession(namespace, 'passed-before', { pool: 'alpha' });
    await setSessionStatus(namespace, 'passed-before', { phase: 'Succeeded', startTime: '2026-05-01T08:00:00Z', completionTime: '2026-05-01T08:10:00Z' });
    await createSession(namespace, 'failed-before', { pool: 'beta' });
    await setSessionStatus(namespace, 'failed-before', { phase: 'Failed', startTime: '2026-05-01T08:00:00Z', completionTime: '2026-05-01T08:00:30Z' });

    app = await startDashboard({ namespaces: [namespace] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await waitFor('the farm in the store', () => app.farm.store.syncStatus().synced && app.farm.store.getPool(namespace, 'empty') !== undefined && app.farm.store.sessionCount() === 7);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await app?.close();
  });

  it('answers in Prometheus text format, uncached, every line a comment or a sample, every name prefixed', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    const samples = parse(res.body);
    expect(samples.length).toBeGreaterThan(50);
    const types = [...res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!);
    expect(types.length).toBeGreaterThan(20);
    expect(types.filter((n) => !n.startsWith('droidfarm_'))).toEqual([]);
    expect(samples.filter((s) => !s.name.startsWith('droidfarm_'))).toEqual([]);
    // Node's own figures come with the prefix too.
    expect(types).toEqual(expect.arrayContaining(['droidfarm_process_cpu_user_seconds_total', 'droidfarm_nodejs_eventloop_lag_seconds', 'droidfarm_nodejs_heap_size_used_bytes']));
    // No device or session name ever becomes a label value.
    const labelValues = new Set(samples.flatMap((s) => Object.values(s.labels)));
    for (const name of ['alpha-0', 'beta-0', 'queued-1', 'running-1', 'passed-before']) expect(labelValues.has(name)).toBe(false);
  });

  it('reports devices by pool and state, sessions by phase and queues by pool, exactly', async () => {
    const s = await scrape();
    const devices = (pool: string) => Object.fromEntries(['Booting', 'Idle', 'Busy', 'Unhealthy'].map((state) => [state, value(s, 'droidfarm_devices', ns({ pool, state }))]));
    expect(devices('alpha')).toEqual({ Booting: 0, Idle: 2, Busy: 1, Unhealthy: 1 });
    expect(devices('beta')).toEqual({ Booting: 1, Idle: 2, Busy: 0, Unhealthy: 0 });
    expect(devices('empty')).toEqual({ Booting: 0, Idle: 0, Busy: 0, Unhealthy: 0 });
    expect(s.filter((x) => x.name === 'droidfarm_devices' && x.labels.namespace === namespace)).toHaveLength(12);

    const phases = Object.fromEntries(
      ['Pending', 'Assigned', 'Running', 'Succeeded', 'Failed', 'Cancelled', 'TimedOut'].map((phase) => [phase, value(s, 'droidfarm_sessions', ns({ phase }))]),
    );
    expect(phases).toEqual({ Pending: 3, Assigned: 1, Running: 1, Succeeded: 1, Failed: 1, Cancelled: 0, TimedOut: 0 });

    const queues = s.filter((x) => x.name === 'droidfarm_session_queue_length' && x.labels.namespace === namespace).map((x) => [x.labels.pool, x.value]);
    expect(Object.fromEntries(queues)).toEqual({ alpha: 2, beta: 0, empty: 0, ghost: 1 });
  });

  it('observes nothing for boots and sessions that ended before the dashboard started', async () => {
    const s = await scrape();
    expect(value(s, 'droidfarm_device_boot_seconds_count', ns({ pool: 'alpha' }))).toBeUndefined();
    expect(value(s, 'droidfarm_session_duration_seconds_count', ns({ phase: 'Succeeded' }))).toBeUndefined();
    expect(value(s, 'droidfarm_session_duration_seconds_count', ns({ phase: 'Failed' }))).toBeUndefined();
  });

  it('observes a device going from Booting to Idle in the boot histogram once', async () => {
    const ready = { name: 'beta-0', state: 'Idle', bootStartedAt: BOOT_START, readyAt: '2026-05-01T10:00:42Z' } as TestDevice;
    await setDevices(namespace, 'beta', beta(ready));
    const count = async () => value(await scrape(), 'droidfarm_device_boot_seconds_count', ns({ pool: 'beta' }));
    await waitFor('the boot in the histogram', async () => (await count()) === 1);
    let s = await scrape();
    expect(value(s, 'droidfarm_device_boot_seconds_sum', ns({ pool: 'beta' }))).toBe(42);
    expect(value(s, 'droidfarm_device_boot_seconds_bucket', ns({ pool: 'beta', le: '30' }))).toBe(0);
    expect(value(s, 'droidfarm_device_boot_seconds_bucket', ns({ pool: 'beta', le: '45' }))).toBe(1);
    expect(value(s, 'droidfarm_device_boot_seconds_bucket', ns({ pool: 'beta', le: '+Inf' }))).toBe(1);
    expect(value(s, 'droidfarm_devices', ns({ pool: 'beta', state: 'Idle' }))).toBe(3);
    expect(value(s, 'droidfarm_devices', ns({ pool: 'beta', state: 'Booting' }))).toBe(0);

    // The same device taking a session is not a second boot.
    await setDevices(namespace, 'beta', beta({ ...ready, state: 'Busy', session: 'assigned-1' }));
    await waitFor('beta-0 Busy in the store', () => app.farm.store.getDevice(namespace, 'beta', 'beta-0')?.state === 'Busy');
    s = await scrape();
    expect(value(s, 'droidfarm_devices', ns({ pool: 'beta', state: 'Busy' }))).toBe(1);
    expect(value(s, 'droidfarm_device_boot_seconds_count', ns({ pool: 'beta' }))).toBe(1);
  });

  it('observes a session finishing in the duration histogram once, by its final phase', async () => {
    const finished = { phase: 'Succeeded', startTime: '2026-05-01T10:00:00Z', completionTime: '2026-05-01T10:01:35Z' };
    await setSessionStatus(namespace, 'running-1', finished);
    const count = async () => value(await scrape(), 'droidfarm_session_duration_seconds_count', ns({ phase: 'Succeeded' }));
    await waitFor('the session in the histogram', async () => (await count()) === 1);
    let s = await scrape();
    expect(value(s, 'droidfarm_session_duration_seconds_sum', ns({ phase: 'Succeeded' }))).toBe(95);
    expect(value(s, 'droidfarm_sessions', ns({ phase: 'Running' }))).toBe(0);
    expect(value(s, 'droidfarm_sessions', ns({ phase: 'Succeeded' }))).toBe(2);

    // The operator writing more about the finished session (results) does not count it again.
    await setSessionStatus(namespace, 'running-1', { results: { passed: 12, failed: 0, skipped: 1 } });
    await waitFor('the results in the store', () => app.farm.store.getSession(namespace, 'running-1')?.results?.passed === 12);
    s = await scrape();
    expect(value(s, 'droidfarm_session_duration_seconds_count', ns({ phase: 'Succeeded' }))).toBe(1);
  });

  it('counts live clients while they are connected, and the events fanned out to them', async () => {
    const before = await scrape();
    const pagesBefore = value(before, 'droidfarm_live_clients', { stream: 'pages' })!;
    const jsonBefore = value(before, 'droidfarm_live_clients', { stream: 'json' })!;
    const eventsBefore = value(before, 'droidfarm_live_events_total', { stream: 'pages' })!;
    const deliveriesBefore = value(before, 'droidfarm_live_deliveries_total', { stream: 'json' })!;
    const tilesBefore = value(before, 'droidfarm_fragment_render_seconds_count', { template: 'partials/device-tile' }) ?? 0;

    const page = await openStream(`${base}/live?topic=${encodeURIComponent(`pool:${namespace}/alpha`)}`);
    const json = await openStream(`${base}/api/v1/events?namespace=${namespace}`);
    streams.push(page, json);
    await page.next((e) => e.event === 'update');
    await json.next((e) => e.event === 'reset');
    await waitFor('both clients in the gauge', async () => {
      const s = await scrape();
      return value(s, 'droidfarm_live_clients', { stream: 'pages' }) === pagesBefore + 1 && value(s, 'droidfarm_live_clients', { stream: 'json' }) === jsonBefore + 1;
    });

    const from = page.events.length;
    await setDevices(namespace, 'alpha', alpha.map((d) => (d.name === 'alpha-1' ? { ...d, state: 'Busy', session: 'queued-1' } : d)));
    await page.next((e) => e.data.includes('alpha-1'), { from });
    await json.next((e) => e.event === 'device' && e.data.includes('alpha-1'));
    const during = await scrape();
    expect(value(during, 'droidfarm_live_events_total', { stream: 'pages' })).toBeGreaterThan(eventsBefore);
    expect(value(during, 'droidfarm_live_deliveries_total', { stream: 'json' })).toBeGreaterThan(deliveriesBefore);
    expect(value(during, 'droidfarm_fragment_render_seconds_count', { template: 'partials/device-tile' })).toBeGreaterThan(tilesBefore);
    expect(value(during, 'droidfarm_live_clients_dropped_total', { stream: 'pages' })).toBe(0);

    page.close();
    json.close();
    await waitFor('both clients gone from the gauge', async () => {
      const s = await scrape();
      return value(s, 'droidfarm_live_clients', { stream: 'pages' }) === pagesBefore && value(s, 'droidfarm_live_clients', { stream: 'json' }) === jsonBefore;
    });
  });

  it('reports every watch as synced and recently heard from', async () => {
    const s = await scrape();
    for (const resource of ['templates', 'pools', 'sessions', 'events']) {
      expect(value(s, 'droidfarm_watch_synced', { resource })).toBe(1);
      expect(value(s, 'droidfarm_watch_failing', { resource })).toBe(0);
      expect(value(s, 'droidfarm_watch_restarts_total', { resource })).toBeGreaterThanOrEqual(0);
      expect(value(s, 'droidfarm_watch_relists_total', { resource })).toBeGreaterThanOrEqual(0);
      const silence = value(s, 'droidfarm_watch_silence_seconds', { resource });
      expect(silence).toBeGreaterThanOrEqual(0);
      expect(silence).toBeLessThan(120);
    }
  });
});

describe('GET /metrics before the dashboard has synced', () => {
  let app: FastifyInstance;
  afterAll(async () => {
    await app?.close();
  });

  it('still answers, and shows the watches that cannot list', async () => {
    // alice has no RBAC at all: every list is refused, so the dashboard never syncs.
    const namespace = await freshNamespace('metrics-unsynced');
    app = await startDashboard({ namespaces: [namespace], user: 'alice', sync: { backoff: { initialMs: 20, maxMs: 100 } } });
    const failing = async () => {
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      return parse(res.body);
    };
    await waitFor('the pools watch reported as failing', async () => {
      const s = await failing();
      return s.some((x) => x.name === 'droidfarm_watch_failing' && x.labels.resource === 'pools' && x.value === 1);
    });
    const s = await failing();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    expect(s.find((x) => x.name === 'droidfarm_watch_synced' && x.labels.resource === 'pools')?.value).toBe(0);
    expect(s.find((x) => x.name === 'droidfarm_watch_restarts_total' && x.labels.resource === 'pools')?.value).toBeGreaterThan(0);
    expect(s.some((x) => x.name === 'droidfarm_watch_silence_seconds' && x.labels.resource === 'pools')).toBe(false);
    expect(s.filter((x) => x.name === 'droidfarm_devices')).toEqual([]);
  });
});
