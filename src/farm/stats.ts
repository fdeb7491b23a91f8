// Derived figures the pages and the JSON API show: per pool and for the whole farm. The
// counts come from the device list itself, so a bar always matches the tiles below it.
import { countDevices, summariseDevices, totalDevices } from './devices.js';
import { DEVICE_STATES, type DeviceCounts, type PoolView } from './types.js';

export interface PoolSummary {
  namespace: string;
  name: string;
  templateName: string;
  replicas: number;
  counts: DeviceCounts;
  total: number;
  /** Idle devices: what new sessions can start on right now. */
  idleCapacity: number;
  /** Share of the bar per state, in percent, summing to 100 when there are devices. */
  shares: Array<{ state: keyof DeviceCounts; count: number; percent: number }>;
  /** The operator has not caught up with the latest spec yet. */
  reconciling: boolean;
}

export function summarisePool(pool: PoolView): PoolSummary {
  const counts = countDevices(pool.devices);
  const total = totalDevices(counts);
  return {
    namespace: pool.namespace,
    name: pool.name,
    templateName: pool.templateName,
    replicas: pool.replicas,
    counts,
    total,
    idleCapacity: counts.Idle,
    shares: DEVICE_STATES.map((state) => ({ state, count: counts[state], percent: total ? (counts[state] / total) * 100 : 0 })),
    reconciling: pool.observedGeneration < pool.generation || total !== pool.replicas,
  };
}

export interface FarmTotals {
  pools: number;
  devices: number;
  counts: DeviceCounts;
}

export function farmTotals(pools: readonly PoolView[]): FarmTotals {
  const counts: DeviceCounts = { Booting: 0, Idle: 0, Busy: 0, Unhealthy: 0 };
  for (const pool of pools) {
    const c = summariseDevices(pool.devices).counts;
    for (const s of DEVICE_STATES) counts[s] += c[s];
  }
  return { pools: pools.length, devices: totalDevices(counts), counts };
}
