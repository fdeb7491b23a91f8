// Farm insights from hand-built sessions whose every figure is known: percentiles by nearest
// rank, utilisation with overlapping and open intervals, windows cutting intervals, missing
// timestamps and clock skew, and incremental updates that agree with a fresh rebuild.
import { describe, expect, it } from 'vitest';
import { factsOf } from '../../src/farm/insights/facts.js';
import { FarmInsights } from '../../src/farm/insights/insights.js';
import { peakOf } from '../../src/farm/insights/tally.js';
import { WINDOWS } from '../../src/farm/insights/window.js';
import { FarmStore } from '../../src/farm/store.js';
import { toPoolView, toSessionView } from '../../src/kube/slim.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const at = (hhmmss: string) => `2026-12-02T${hhmmss}Z`;

let rv = 0;
function session(name: string, created: string, status: Record<string, unknown> = {}, pool = 'alpha', labels: Record<string, string> = {}) {
  return toSessionView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'TestSession',
    metadata: { name, namespace: 'ns', uid: name, resourceVersion: String(++rv), creationTimestamp: at(created), labels },
    spec: { poolRef: { name: pool } },
    status,
  });
}

function pool(name: string, devices: number, extra: (i: number) => Record<string, unknown> = () => ({})) {
  return toPoolView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DevicePool',
    metadata: { name, namespace: 'ns', uid: name, resourceVersion: '1', generation: 1 },
    spec: { templateRef: { name: 'pixel' }, replicas: devices },
    status: { observedGeneration: 1, devices: Array.from({ length: devices }, (_, i) => ({ name: `${name}-${i}`, state: 'Idle', ...extra(i) })) },
  });
}

const ran = (device: string, assigned: string, started: string, completed: string | undefined, phase: string, extra: Record<string, unknown> = {}) => ({
  phase,
  device: { name: device },
  assignedAt: at(assigned),
  startTime: at(started),
  ...(completed ? { completionTime: at(completed) } : {}),
  ...extra,
});

/** The farm of the figures below: 4 devices in pool alpha. */
function farm() {
  const store = new FarmStore();
  store.applyPool('added', pool('alpha', 4));
  store.applySession('added', session('s1', '10:00:00', ran('alpha-0', '10:01:00', '10:01:00', '10:11:00', 'Succeeded', { results: { passed: 10, failed: 0, skipped: 1 } })));
  store.applySession('added', session('s2', '10:00:00', ran('alpha-1', '10:03:00', '10:03:00', '10:33:00', 'Failed', { results: { passed: 8, failed: 2, skipped: 0 }, reason: 'TestsFailed' })));
  // Clock skew: the runner's startTime is 10 s before the operator's assignedAt.
  store.applySession('added', session('s3', '11:00:00', ran('alpha-0', '11:00:30', '11:00:20', '11:10:20', 'TimedOut', { reason: 'Timeout' })));
  // Still running: an open interval up to now.
  store.applySession('added', session('s4', '11:30:00', ran('alpha-2', '11:40:00', '11:40:00', undefined, 'Running')));
  store.applySession('added', session('s5', '11:50:00'));
  // Cancelled while waiting, without completionTime: counted at its creation, no run time.
  store.applySession('added', session('s6', '09:00:00', { phase: 'Cancelled' }));
  return store;
}

describe('insights over a window', () => {
  it('has every figure of the last 24 hours', () => {
    const r = new FarmInsights(farm()).report({ window: '24h' }, NOW);
    const p = r.pools[0]!;
    expect(p.sessions).toEqual({ created: 6, started: 4, finished: 4, Succeeded: 1, Failed: 1, Cancelled: 1, TimedOut: 1, waiting: 1, running: 1 });
    expect(p.passRate).toBe(0.25);
    expect(p.testsPassRate).toBe(0.9);
    expect(p.queueWaitSeconds).toEqual({ p50: 60, p95: 600, max: 600 });
    expect(p.runSeconds).toEqual({ p50: 600, p95: 1800 });
    // 10 + 30 + 10 + 20 busy minutes over 4 devices × the 3 covered hours (09:00 to 12:00).
    expect(p.utilisation).toBeCloseTo(4200 / 43200, 10);
    expect(p.peakBusy).toBe(2);
    expect(r.coverage).toEqual({ oldestSession: Date.parse(at('09:00:00')), complete: false });
    expect(p.topFailureReasons.map((x) => [x.reason, x.count, x.sessions.map((s) => s.name)])).toEqual([
      ['TestsFailed', 1, ['s2']],
      ['Timeout', 1, ['s3']],
    ]);
    expect(r.farm.sessions.finished).toBe(4);
    expect(r.farm.queueWaitSeconds).toEqual(p.queueWaitSeconds);
  });

  it('cuts the last hour at its start', () => {
    const store = farm();
    // Busy 10:30 to 11:30: the last hour sees its second half only.
    store.applySession('added', session('long', '10:29:00', ran('alpha-3', '10:30:00', '10:30:00', '11:30:00', 'Succeeded')));
    const p = new FarmInsights(store).report({ window: '1h' }, NOW).pools[0]!;
    expect(p.sessions.finished).toBe(2); // s3 and long
    expect(p.queueWaitSeconds).toEqual({ p50: 30, p95: 600, max: 600 }); // s3 (30 s) and s4 (600 s)
    // s3 10 min, s4 20 min (open), long 30 min of its 60, over 4 device-hours.
    expect(p.utilisation).toBeCloseTo(3600 / 14400, 10);
    expect(p.peakBusy).toBe(2); // s3 and long overlap; s4 starts after long ends
  });

  it('counts open intervals in the peak where they start inside a slot', () => {
    const store = new FarmStore();
    store.applyPool('added', pool('alpha', 4));
    store.applySession('added', session('a', '11:00:00', ran('alpha-0', '11:05:00', '11:05:00', undefined, 'Running')));
    store.applySession('added', session('b', '11:00:00', ran('alpha-1', '11:10:00', '11:10:00', undefined, 'Running')));
    store.applySession('added', session('c', '11:00:00', ran('alpha-2', '11:15:00', '11:15:00', '11:20:00', 'Succeeded')));
    store.applySession('added', session('d', '09:00:00', ran('alpha-3', '09:30:00', '09:30:00', undefined, 'Running')));
    const r = new FarmInsights(store).report({ window: '24h' }, NOW);
    const p = r.pools[0]!;
    expect(p.peakBusy).toBe(4);
    const slot = (hh: string) => p.series.find((s) => s.from === Date.parse(at(`${hh}:00:00`)))!;
    expect(slot('10').peakBusy).toBe(1); // only d, open across the whole hour
    expect(slot('11').peakBusy).toBe(4);
    expect(slot('10').utilisation).toBeCloseTo(0.25, 10);
  });

  it('keeps figures right through changes, as a fresh rebuild sees them', () => {
    const store = farm();
    const live = new FarmInsights(store);
    live.report({ window: '24h' }, NOW); // cached, then invalidated by the changes below
    store.applySession('modified', session('s4', '11:30:00', ran('alpha-2', '11:40:00', '11:40:00', '11:55:00', 'Failed', { reason: 'TestsFailed' })));
    store.applySession('modified', session('s5', '11:50:00', ran('alpha-3', '11:52:00', '11:52:00', undefined, 'Running')));
    store.applySession('deleted', session('s1', '10:00:00'));
    for (const window of ['1h', '24h', '7d'] as const) {
      const a = live.report({ window }, NOW);
      const b = new FarmInsights(store).report({ window }, NOW);
      expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    }
    const p = live.report({ window: '24h' }, NOW).pools[0]!;
    expect(p.sessions).toMatchObject({ finished: 4, Succeeded: 0, Failed: 2, waiting: 0, running: 1 });
    expect(p.topFailureReasons[0]).toMatchObject({ reason: 'TestsFailed', count: 2 });
  });

  it('agrees with a rebuild after many random changes', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const store = new FarmStore();
    store.applyPool('added', pool('alpha', 6));
    const live = new FarmInsights(store);
    const phases = ['Pending', 'Running', 'Succeeded', 'Failed', 'TimedOut', 'Cancelled'];
    for (let i = 0; i < 400; i++) {
      const name = `r${Math.floor(rnd() * 60)}`;
      if (rnd() < 0.1) {
        store.applySession('deleted', session(name, '00:00:00'));
        continue;
      }
      const created = NOW - Math.floor(rnd() * 30 * 3600_000);
      const phase = phases[Math.floor(rnd() * phases.length)]!;
      const assigned = created + Math.floor(rnd() * 1800_000);
      const done = assigned + Math.floor(rnd() * 7200_000);
      const iso = (t: number) => new Date(Math.min(t, NOW - 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const status = phase === 'Pending' ? {} : { phase, device: { name: `alpha-${Math.floor(rnd() * 6)}` }, assignedAt: iso(assigned), startTime: iso(assigned + 5000), ...(phase === 'Running' ? {} : { completionTime: iso(done) }) };
      const s = session(name, '00:00:00', status);
      store.applySession(store.getSession('ns', name) ? 'modified' : 'added', { ...s, createdAt: Math.floor(created / 1000) * 1000 });
      if (i % 50 === 0) live.report({ window: '24h' }, NOW + i);
    }
    for (const window of ['1h', '24h', '7d'] as const) {
      const report = live.report({ window }, NOW + 1);
      expect(JSON.stringify(report)).toBe(JSON.stringify(new FarmInsights(store).report({ window }, NOW + 1)));
      // The peak and busy time against a plain sweep over every session's clipped interval.
      const from = NOW + 1 - WINDOWS[window].ms;
      const clipped = [...store.allSessions()]
        .map((s) => factsOf(s).busy)
        .filter((b) => b !== undefined)
        .map((b): [number, number] => [Math.max(b.from, from), Math.min(b.to ?? NOW + 1, NOW + 1)])
        .filter(([a, b]) => b > a);
      expect(report.pools[0]!.peakBusy, window).toBe(peakOf(clipped));
      const busyMs = clipped.reduce((sum, [a, b]) => sum + b - a, 0);
      const covered = NOW + 1 - Math.max(from, report.coverage.oldestSession!);
      expect(report.pools[0]!.utilisation!, window).toBeCloseTo(Math.min(1, busyMs / (6 * covered)), 9);
    }
  });

  it('filters by namespace, pool and template, and keeps a pool that is gone', () => {
    const store = farm();
    store.applySession('added', session('other', '11:00:00', ran('beta-0', '11:01:00', '11:01:00', '11:02:00', 'Succeeded'), 'beta'));
    const insights = new FarmInsights(store);
    expect(insights.report({ window: '24h' }, NOW).pools.map((p) => p.pool)).toEqual(['alpha', 'beta']);
    expect(insights.report({ window: '24h', pool: 'beta' }, NOW).pools.map((p) => p.pool)).toEqual(['beta']);
    expect(insights.report({ window: '24h', template: 'pixel' }, NOW).pools.map((p) => p.pool)).toEqual(['alpha']);
    expect(insights.report({ window: '24h', namespace: 'elsewhere' }, NOW).pools).toEqual([]);
    const beta = insights.report({ window: '24h', pool: 'beta' }, NOW).pools[0]!;
    expect(beta.utilisation).toBeNull(); // no devices known
  });

  it('reads boot times and the Unhealthy share from the devices', () => {
    const store = new FarmStore();
    store.applyPool(
      'added',
      pool('alpha', 4, (i) => ({
        bootStartedAt: at('11:00:00'),
        readyAt: at(`11:0${i + 1}:00`),
        state: i === 3 ? 'Unhealthy' : 'Idle',
      })),
    );
    const p = new FarmInsights(store).report({ window: '24h' }, NOW).pools[0]!;
    expect(p.bootSeconds).toEqual({ p50: 120, p95: 240 });
    expect(p.unhealthyShare).toBe(0.25);
  });

  it('places a waiting session in its queue and estimates its wait from the last hour', () => {
    const store = farm();
    store.applySession('added', session('s7', '11:55:00'));
    const insights = new FarmInsights(store);
    // s3 finished in the last hour: one per hour; s7 is second in line.
    expect(insights.queuePlace('ns', 'alpha', 's7', NOW)).toEqual({ place: 2, waiting: 2, finishedLastHour: 1, estimatedWaitSeconds: 7200 });
    expect(insights.queuePlace('ns', 'alpha', 's1', NOW)).toBeUndefined();
  });
});
