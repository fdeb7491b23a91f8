// The statistics behind bottleneck verdicts and suspect devices, against figures worked out by hand.
import { describe, expect, it } from 'vitest';
import { binomialTail } from '../../src/farm/insights/binomial.js';
import { devicesFor, erlangC, waitQuantile } from '../../src/farm/insights/erlang.js';
import { percentile, selectPercentile, spread } from '../../src/farm/insights/percentile.js';
import { likelyApp, suspectDevices } from '../../src/farm/insights/suspects.js';
import { emptyTally } from '../../src/farm/insights/tally.js';
import { verdictOf } from '../../src/farm/insights/verdict.js';
import { slotsOf } from '../../src/farm/insights/window.js';

describe('percentiles by nearest rank', () => {
  it('picks an observed value', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('selects the same value as sorting would, duplicates included', () => {
    let seed = 3;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (const n of [1, 2, 3, 10, 101, 1000]) {
      const values = Array.from({ length: n }, () => Math.floor(rnd() * 50));
      const sorted = [...values].sort((a, b) => a - b);
      for (const p of [1, 50, 95, 99, 100]) expect(selectPercentile(Float64Array.from(values), p), `n=${n} p=${p}`).toBe(percentile(sorted, p));
      expect(spread(Float64Array.from(values))).toEqual({ p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[n - 1] });
    }
  });
});

describe('the M/M/c queue', () => {
  it('gives Erlang C as worked out by hand', () => {
    expect(erlangC(1, 0.5)).toBeCloseTo(0.5, 12); // M/M/1: P(wait) = ρ
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
    expect(erlangC(3, 3)).toBe(1);
  });

  it('finds the wait quantile and the devices that keep it under a target', () => {
    // M/M/1, λ = 0.5/s, μ = 1/s: P(W > t) = 0.5·e^{-0.5 t}; the 95th percentile is ln(10)/0.5.
    expect(waitQuantile(1, 0.5, 1, 0.95)).toBeCloseTo(Math.log(10) / 0.5, 9);
    expect(waitQuantile(1, 1, 1, 0.95)).toBe(Number.POSITIVE_INFINITY);
    const needed = devicesFor(48 / 3600, 1 / 360, 0.95, 120)!;
    expect(waitQuantile(needed, 48 / 3600, 1 / 360, 0.95)).toBeLessThanOrEqual(120);
    expect(waitQuantile(needed - 1, 48 / 3600, 1 / 360, 0.95)).toBeGreaterThan(120);
  });
});

describe('the one-sided binomial test', () => {
  it('sums the upper tail', () => {
    expect(binomialTail(2, 2, 0.5)).toBeCloseTo(0.25, 12);
    expect(binomialTail(1, 3, 0.5)).toBeCloseTo(7 / 8, 12);
    expect(binomialTail(0, 3, 0.1)).toBe(1);
  });

  it('agrees with the plain sum of every term for large n', () => {
    const plain = (k: number, n: number, p: number) => {
      let lf = [0];
      for (let i = 1; i <= n; i++) lf[i] = lf[i - 1]! + Math.log(i);
      let sum = 0;
      for (let i = k; i <= n; i++) sum += Math.exp(lf[n]! - lf[i]! - lf[n - i]! + i * Math.log(p) + (n - i) * Math.log(1 - p));
      lf = [];
      return sum;
    };
    for (const [k, n, p] of [[200, 2000, 0.1], [230, 2000, 0.1], [12, 20, 0.3], [5, 10, 0.05], [1, 1, 0.5]] as const) {
      expect(binomialTail(k, n, p), `${k}/${n} at ${p}`).toBeCloseTo(plain(k, n, p), 9);
    }
  });
});

function tallyWith(devices: Record<string, [number, number]>) {
  const t = emptyTally();
  for (const [name, [n, failed]] of Object.entries(devices)) t.devices.set(name, { n, failed, recent: [] });
  return t;
}

describe('suspect devices', () => {
  it('names a device failing far more than the rest of its pool', () => {
    const t = tallyWith({ d0: [10, 8], d1: [10, 1], d2: [10, 1], d3: [10, 1], d4: [10, 1] });
    const s = suspectDevices(t);
    expect(s.map((x) => x.device)).toEqual(['d0']);
    expect(s[0]).toMatchObject({ sessions: 10, failed: 8, failureRate: 0.8, poolFailureRate: 0.1 });
    expect(s[0]!.pValue).toBeLessThan(0.01);
  });

  it('needs at least 5 sessions and a real difference', () => {
    expect(suspectDevices(tallyWith({ d0: [4, 4], d1: [20, 0] }))).toEqual([]);
    expect(suspectDevices(tallyWith({ d0: [10, 5], d1: [10, 4], d2: [10, 5] }))).toEqual([]);
  });

  it('points at the app when a suite fails on many devices at once', () => {
    const t = emptyTally();
    t.suites.set('checkout', { n: 8, failed: 6, devices: new Set(['a', 'b', 'c']) });
    t.suites.set('login', { n: 8, failed: 1, devices: new Set(['a']) });
    expect(likelyApp(t)).toEqual([{ suite: 'checkout', sessions: 8, failed: 6, failureRate: 0.75, devices: 3 }]);
  });
});

describe('bottleneck verdicts', () => {
  const busy = { pool: 'regression', devices: 40, idle: 0, waiting: 14, oldestWaitSeconds: 720, p95WaitSeconds: 540, arrivalsLastHour: 480, meanRunSeconds: 360 };

  it('says bottleneck with its evidence and the devices that would do', () => {
    const v = verdictOf(busy);
    expect(v.status).toBe('bottleneck');
    expect(v.evidence.modelP95WaitSeconds).toBe(-1); // 48 Erlangs on 40 devices: the queue grows
    expect(v.evidence.devicesNeeded).toBe(devicesFor(480 / 3600, 1 / 360, 0.95, 120));
    expect(v.summary).toBe(`regression: 14 sessions waiting, 0 idle, oldest waiting 12 min; p95 wait 9 min in the last hour; at 480 arrivals/h and 6 min mean run time, ~${v.evidence.devicesNeeded} devices would keep p95 wait under 2 min (40 now)`);
  });

  it('says healthy when a device is idle or the wait is short', () => {
    expect(verdictOf({ ...busy, idle: 1 }).status).toBe('healthy');
    expect(verdictOf({ ...busy, oldestWaitSeconds: 30, p95WaitSeconds: 60 }).status).toBe('healthy');
    expect(verdictOf({ ...busy, waiting: 0 }).summary).toBe('healthy');
  });
});

describe('chart slots', () => {
  it('cuts a day into hours aligned on the clock, the first and last cut at the window', () => {
    const now = Date.parse('2026-12-02T12:30:00Z');
    const slots = slotsOf('24h', now);
    expect(slots).toHaveLength(25);
    expect(slots[0]).toEqual({ from: now - 86_400_000, to: Date.parse('2026-12-01T13:00:00Z') });
    expect(slots.at(-1)).toEqual({ from: Date.parse('2026-12-02T12:00:00Z'), to: now });
    expect(slotsOf('1h', now)).toHaveLength(12);
  });
});
