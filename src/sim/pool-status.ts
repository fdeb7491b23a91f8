// What the simulated operator writes as a DevicePool's status: its devices with their URLs,
// counts by state, and the Ready condition, whose lastTransitionTime moves only when it flips.
import type { SimDevice } from './device-model.js';

export interface PoolFacts {
  namespace: string;
  name: string;
  replicas: number;
  generation: number;
  devices: readonly SimDevice[];
  /** The Ready condition as last written. */
  ready: { status: 'True' | 'False'; since: string } | undefined;
}

export interface DeviceLinks {
  streamURL(namespace: string, device: string): string;
  appiumURL(namespace: string, device: string): string;
}

/** The status patch, and the Ready condition it holds (remembered once written). */
export function poolStatus(pool: PoolFacts, now: string, stamp: (simAt: number) => string, links: DeviceLinks): { status: Record<string, unknown>; ready: { status: 'True' | 'False'; since: string } } {
  const counts = { booting: 0, idle: 0, busy: 0, unhealthy: 0 };
  for (const d of pool.devices) counts[d.state.toLowerCase() as keyof typeof counts]++;
  const isReady = counts.booting === 0 && pool.devices.length === pool.replicas;
  const readyStatus = isReady ? 'True' : 'False';
  const since = pool.ready?.status === readyStatus ? pool.ready.since : now;
  const missing = pool.replicas - pool.devices.length;
  const notReady = [counts.booting ? `${counts.booting} booting` : '', missing > 0 ? `${missing} to create` : '', missing < 0 ? `${-missing} to remove once their sessions end` : ''].filter(Boolean);
  return {
    ready: { status: readyStatus, since },
    status: {
      observedGeneration: pool.generation,
      replicas: pool.devices.length,
      counts,
      devices: pool.devices.map((d) => ({
        name: d.name,
        state: d.state,
        podName: `${d.name}-cvd`,
        nodeName: `farm-node-${hashIndex(d.name, 4)}`,
        streamURL: links.streamURL(pool.namespace, d.name),
        appiumURL: links.appiumURL(pool.namespace, d.name),
        // Absent, not null: the array is replaced whole and the schema has no nullable fields.
        session: d.session || undefined,
        bootStartedAt: stamp(d.bootStartedAt),
        readyAt: d.readyAt === undefined ? undefined : stamp(d.readyAt),
        lastHeartbeatTime: now,
        message: d.message || undefined,
      })),
      conditions: [
        {
          type: 'Ready',
          status: readyStatus,
          reason: isReady ? 'AllDevicesUp' : 'Scaling',
          message: isReady ? `${pool.devices.length} devices up` : notReady.join(', '),
          lastTransitionTime: since,
          observedGeneration: pool.generation,
        },
      ],
    },
  };
}

function hashIndex(text: string, buckets: number): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return h % buckets;
}
