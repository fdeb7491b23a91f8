// Pure logic about devices: diffing a pool's device list between two versions, counting
// states, spotting stale heartbeats, ordering names and reading state filters. Plain data in
// and out, so it is easy to test.
import { DEVICE_STATES, type DeviceCounts, type DeviceState, type DeviceView } from './types.js';

export type DeviceDiff =
  | { type: 'added'; device: DeviceView }
  | { type: 'modified'; device: DeviceView; old: DeviceView }
  | { type: 'removed'; device: DeviceView };

/** The per-device changes between two versions of a pool's status.devices. */
export function diffDevices(before: readonly DeviceView[], after: readonly DeviceView[]): DeviceDiff[] {
  const old = new Map(before.map((d) => [d.name, d]));
  const diffs: DeviceDiff[] = [];
  for (const device of after) {
    const prev = old.get(device.name);
    if (!prev) diffs.push({ type: 'added', device });
    else {
      old.delete(device.name);
      if (!sameDevice(prev, device)) diffs.push({ type: 'modified', device, old: prev });
    }
  }
  for (const device of old.values()) diffs.push({ type: 'removed', device });
  return diffs;
}

/**
 * Whether two versions of a device look the same to an operator. Heartbeats alone do not
 * count: they tick for every device every few seconds, and staleness is checked by time.
 */
export function sameDevice(a: DeviceView, b: DeviceView): boolean {
  return (
    a.state === b.state &&
    a.session === b.session &&
    a.message === b.message &&
    a.streamURL === b.streamURL &&
    a.appiumURL === b.appiumURL &&
    a.podName === b.podName &&
    a.nodeName === b.nodeName &&
    a.bootStartedAt === b.bootStartedAt &&
    a.readyAt === b.readyAt
  );
}

/** Counts derived from the device list itself: always consistent with the tiles shown. */
export function countDevices(devices: readonly DeviceView[]): DeviceCounts {
  const counts: DeviceCounts = { Booting: 0, Idle: 0, Busy: 0, Unhealthy: 0 };
  for (const d of devices) counts[d.state]++;
  return counts;
}

/** What the farm-wide sums read from one pool's devices. */
export interface DeviceSummary {
  counts: DeviceCounts;
  /** The Unhealthy devices, in the pool's order. */
  unhealthy: readonly DeviceView[];
  /** Last heartbeat of each device that can go stale (not Booting, has reported), oldest first. */
  heartbeats: readonly number[];
}

// A pool view's device list never changes once made (a change makes a new view): its
// summary is computed once, not once per scope that sums it (100 distinct views of the farm
// each summing every device was most of a scoped change's cost).
const summaries = new WeakMap<readonly DeviceView[], DeviceSummary>();

export function summariseDevices(devices: readonly DeviceView[]): DeviceSummary {
  let summary = summaries.get(devices);
  if (!summary) {
    const unhealthy: DeviceView[] = [];
    const heartbeats: number[] = [];
    for (const d of devices) {
      if (d.state === 'Unhealthy') unhealthy.push(d);
      if (d.state !== 'Booting' && d.lastHeartbeatAt !== undefined) heartbeats.push(d.lastHeartbeatAt);
    }
    summary = { counts: countDevices(devices), unhealthy, heartbeats: heartbeats.sort((a, b) => a - b) };
    summaries.set(devices, summary);
  }
  return summary;
}

/** How many of a summary's devices have a stale heartbeat at `now` (as isHeartbeatStale counts them). */
export function staleHeartbeatCount(summary: DeviceSummary, now: number, staleAfterMs = STALE_HEARTBEAT_MS): number {
  // Stale: now - at > staleAfterMs, i.e. at < now - staleAfterMs; the first that is not, by bisection.
  const limit = now - staleAfterMs;
  const hb = summary.heartbeats;
  let lo = 0;
  let hi = hb.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (hb[mid]! < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function totalDevices(counts: DeviceCounts): number {
  return DEVICE_STATES.reduce((n, s) => n + counts[s], 0);
}

/** A device whose operator has not reported a heartbeat for this long is flagged stale. */
export const STALE_HEARTBEAT_MS = 90_000;

export function isHeartbeatStale(device: DeviceView, now: number, staleAfterMs = STALE_HEARTBEAT_MS): boolean {
  if (device.state === 'Booting') return false;
  if (device.lastHeartbeatAt === undefined) return false;
  return now - device.lastHeartbeatAt > staleAfterMs;
}

// One collator for every comparison: localeCompare with a locale or options builds a new
// ICU collator per call, which made sorting a 1,000-device grid most of its render time.
const NATURAL = new Intl.Collator('en', { numeric: true });

/** Device names end in an index: pool-2 sorts before pool-10. */
export function naturalCompare(a: string, b: string): number {
  return NATURAL.compare(a, b);
}

const inOrder = new WeakMap<readonly DeviceView[], readonly DeviceView[]>();

/**
 * A pool's devices by name (pool-2 before pool-10), sorted once per pool version: a view's
 * device list never changes once made, and sorting 1,000 names with the collator was a fifth
 * of a pool page's render.
 */
export function devicesInOrder(devices: readonly DeviceView[]): readonly DeviceView[] {
  let sorted = inOrder.get(devices);
  if (!sorted) inOrder.set(devices, (sorted = [...devices].sort((a, b) => naturalCompare(a.name, b.name))));
  return sorted;
}

/** The device states asked for in a query (`?state=Idle&state=busy` or `Idle,Busy`), in the farm's order. */
export function parseStateFilter(raw: unknown): DeviceState[] {
  const values = (Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : []).map(String);
  return DEVICE_STATES.filter((s) => values.some((v) => v.toLowerCase() === s.toLowerCase()));
}
