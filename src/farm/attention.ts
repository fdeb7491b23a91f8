// What needs an operator's attention across the farm, for the overview's strip: Unhealthy
// devices with their reasons, stale heartbeats, sessions waiting per pool, and failures in
// the last hour. Session figures are kept incrementally from the store's changes (a farm
// of 50,000 sessions is never walked per change); device figures are read from the pools.
import { staleHeartbeatCount, summariseDevices } from './devices.js';
import { key, type FarmChange, type FarmStore } from './store.js';
import type { SessionView } from './types.js';

const HOUR_MS = 3_600_000;
const FAILED = new Set(['Failed', 'TimedOut']);

export interface AttentionView {
  unhealthy: Array<{ namespace: string; pool: string; device: string; reason: string }>;
  unhealthyTotal: number;
  staleHeartbeats: number;
  waiting: Array<{ namespace: string; pool: string; sessions: number; idle: number }>;
  failedLastHour: number;
  /** Nothing above is worth a look. */
  calm: boolean;
}

export class FarmAttention {
  /** Pending sessions per pool key. */
  private readonly pending = new Map<string, number>();
  /** Failed or timed-out sessions by key, with when they ended. */
  private readonly failures = new Map<string, number>();

  constructor(private readonly store: FarmStore) {
    for (const s of store.allSessions()) this.count(s, 1);
    store.subscribe((change) => this.apply(change));
  }

  /** With a scope, only what its person may see: pools (and their queues) and failures by namespace. */
  view(now: number, shown = 5, scope?: { pools?: ReadonlySet<string> | undefined; sessions?: ReadonlySet<string> | undefined }): AttentionView {
    const unhealthy: AttentionView['unhealthy'] = [];
    let unhealthyTotal = 0;
    let staleHeartbeats = 0;
    const waiting: AttentionView['waiting'] = [];
    for (const pool of this.store.listPools()) {
      if (scope?.pools && !scope.pools.has(pool.namespace)) continue;
      const summary = summariseDevices(pool.devices);
      const idle = summary.counts.Idle;
      unhealthyTotal += summary.unhealthy.length;
      for (const d of summary.unhealthy) {
        if (unhealthy.length >= shown) break;
        unhealthy.push({ namespace: pool.namespace, pool: pool.name, device: d.name, reason: d.message });
      }
      staleHeartbeats += staleHeartbeatCount(summary, now);
      const queued = this.pending.get(key(pool.namespace, pool.name)) ?? 0;
      if (queued > 0) waiting.push({ namespace: pool.namespace, pool: pool.name, sessions: queued, idle });
    }
    let failedLastHour = 0;
    for (const [k, at] of this.failures) {
      if (now - at > HOUR_MS) this.failures.delete(k);
      else if (!scope?.sessions || scope.sessions.has(k.slice(0, k.indexOf('/')))) failedLastHour++;
    }
    waiting.sort((a, b) => b.sessions - a.sessions);
    return { unhealthy, unhealthyTotal, staleHeartbeats, waiting, failedLastHour, calm: unhealthyTotal === 0 && staleHeartbeats === 0 && waiting.length === 0 && failedLastHour === 0 };
  }

  private apply(change: FarmChange): void {
    if (change.kind !== 'session') return;
    if (change.old) this.count(change.old, -1);
    if (change.type !== 'deleted') this.count(change.view, 1);
  }

  private count(s: SessionView, delta: 1 | -1): void {
    const k = key(s.namespace, s.name);
    if (s.phase === 'Pending') {
      const pool = key(s.namespace, s.spec.poolName);
      const n = (this.pending.get(pool) ?? 0) + delta;
      if (n > 0) this.pending.set(pool, n);
      else this.pending.delete(pool);
    }
    if (delta < 0) this.failures.delete(k);
    else if (FAILED.has(s.phase) && s.completedAt !== undefined) this.failures.set(k, s.completedAt);
  }
}
