// "Is it the device or the test?" A device is suspect when its sessions fail far more often
// than the rest of its pool's: one-sided binomial test, H0 "this device fails like the
// others", p-value P(X ≥ k | n, p0) with p0 the others' failure rate (Laplace-smoothed,
// (f+1)/(m+2), so a spotless pool does not make one failure damning). Suspect when
// n ≥ MIN_SESSIONS, the device's rate is above p0 and p < P_THRESHOLD.
// The opposite: a suite failing on many devices at once points at the app, not the farm.
import { binomialTail } from './binomial.js';
import type { SessionRef, Tally } from './tally.js';

export const MIN_SESSIONS = 5;
export const P_THRESHOLD = 0.01;
/** A suite failing on at least this many devices, in at least half its sessions. */
export const APP_MIN_DEVICES = 3;

export interface SuspectDevice {
  device: string;
  sessions: number;
  failed: number;
  failureRate: number;
  poolFailureRate: number;
  pValue: number;
  recentFailures: SessionRef[];
}

export interface LikelyApp {
  suite: string;
  sessions: number;
  failed: number;
  failureRate: number;
  devices: number;
}

export function suspectDevices(t: Tally): SuspectDevice[] {
  let n = 0;
  let failed = 0;
  for (const d of t.devices.values()) {
    n += d.n;
    failed += d.failed;
  }
  const out: SuspectDevice[] = [];
  for (const [device, d] of t.devices) {
    if (d.n < MIN_SESSIONS) continue;
    const others = { n: n - d.n, failed: failed - d.failed };
    const p0 = (others.failed + 1) / (others.n + 2);
    const rate = d.failed / d.n;
    if (rate <= p0) continue;
    const pValue = binomialTail(d.failed, d.n, p0);
    if (pValue >= P_THRESHOLD) continue;
    out.push({ device, sessions: d.n, failed: d.failed, failureRate: rate, poolFailureRate: others.n ? others.failed / others.n : 0, pValue, recentFailures: d.recent });
  }
  return out.sort((a, b) => a.pValue - b.pValue || a.device.localeCompare(b.device));
}

export function likelyApp(t: Tally): LikelyApp[] {
  const out: LikelyApp[] = [];
  for (const [suite, s] of t.suites) {
    if (s.n < MIN_SESSIONS || s.devices.size < APP_MIN_DEVICES || s.failed * 2 < s.n) continue;
    out.push({ suite, sessions: s.n, failed: s.failed, failureRate: s.failed / s.n, devices: s.devices.size });
  }
  return out.sort((a, b) => b.failed - a.failed || a.suite.localeCompare(b.suite));
}
