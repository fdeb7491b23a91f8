// The DevicePools as the simulator plays them. A pool seen for the first time is adopted,
// continuing from the devices an earlier simulator (or operator) reported; then its device
// list follows spec.replicas: new devices boot, spare ones go (the newest that is not busy:
// a busy device stays until its session ends); a pool no longer there is forgotten.
import type { DeviceState } from '../farm/types.js';
import { objectKey } from '../kube/informer.js';
import type { KubeObject } from '../kube/types.js';
import { newDevice, type SimDevice } from './device-model.js';
import { streamFor, type Random } from './random.js';

/** A pool as the simulator plays it: its devices, and what it last wrote. */
export interface SimPool {
  namespace: string;
  name: string;
  replicas: number;
  generation: number;
  devices: SimDevice[];
  /** Each device's own random stream, by name. */
  randoms: Map<string, Random>;
  /** devicePods: devices whose pod has been created (so its absence now means it was deleted). */
  podsSeen: Set<string>;
  nextIndex: number;
  /** Status changed since it was last written. */
  dirty: boolean;
  lastHeartbeat: number;
  /** The pool's stream for the demo's flow of new sessions. */
  generator: Random;
  /** The Ready condition as last written, so lastTransitionTime moves only when it flips. */
  ready: { status: 'True' | 'False'; since: string } | undefined;
}

export interface PoolPlay {
  seed: number;
  /** Simulated time. */
  now: number;
  /** Devices added now are already booted (the first tick of a warm start). */
  warm: boolean;
  /** A device was added or changed state: told (transitions) and the pool's status is dirty. */
  transition(pool: SimPool, device: SimDevice): void;
}

/** Brings `pools` in line with the DevicePool objects: adopts new ones, follows replicas, forgets deleted ones. */
export function followPools(pools: Map<string, SimPool>, objects: readonly KubeObject[], play: PoolPlay): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const k = objectKey(o);
    seen.add(k);
    const spec = (o.spec ?? {}) as { replicas?: number };
    let pool = pools.get(k);
    if (!pool) {
      pool = adoptPool(o, play);
      pools.set(k, pool);
    }
    pool.replicas = spec.replicas ?? 1;
    if (pool.generation !== (o.metadata.generation ?? 1)) {
      pool.generation = o.metadata.generation ?? 1;
      pool.dirty = true;
    }
    scale(pool, play);
  }
  for (const k of [...pools.keys()]) if (!seen.has(k)) pools.delete(k);
}

function adoptPool(o: KubeObject, play: PoolPlay): SimPool {
  const namespace = o.metadata.namespace!;
  const name = o.metadata.name;
  const pool: SimPool = {
    namespace,
    name,
    replicas: 0,
    generation: 0,
    devices: [],
    randoms: new Map(),
    podsSeen: new Set(),
    nextIndex: 0,
    dirty: true,
    lastHeartbeat: play.now,
    generator: streamFor(play.seed, namespace, name, 'sessions'),
    ready: undefined,
  };
  // Continue from what an earlier simulator (or operator) reported.
  const reported = (o.status as { devices?: Array<{ name: string; state: DeviceState; session?: string }> } | undefined)?.devices ?? [];
  for (const d of reported) {
    const device = addDevice(pool, d.name, true, play);
    pool.devices.push({ ...device, state: d.state === 'Busy' ? 'Idle' : d.state });
    const index = Number(d.name.split('-').pop());
    if (Number.isInteger(index)) pool.nextIndex = Math.max(pool.nextIndex, index + 1);
  }
  return pool;
}

function addDevice(pool: SimPool, name: string, warm: boolean, play: PoolPlay): SimDevice {
  const random = streamFor(play.seed, pool.namespace, pool.name, name);
  pool.randoms.set(name, random);
  return newDevice(name, play.now, random, warm || play.warm);
}

/** Keeps the device list in line with spec.replicas: add Booting devices, remove spare ones. */
function scale(pool: SimPool, play: PoolPlay): void {
  while (pool.devices.length < pool.replicas) {
    const device = addDevice(pool, `${pool.name}-${pool.nextIndex++}`, false, play);
    pool.devices.push(device);
    play.transition(pool, device);
  }
  while (pool.devices.length > pool.replicas) {
    // Remove the newest device that is not running a session; busy ones finish first.
    const index = pool.devices.findLastIndex((d) => d.state !== 'Busy');
    if (index < 0) break;
    pool.randoms.delete(pool.devices[index]!.name);
    pool.devices.splice(index, 1);
    pool.dirty = true;
  }
}

/** Replaces one of the pool's devices by its next state. */
export function replaceDevice(pool: SimPool, name: string, next: SimDevice): void {
  pool.devices = pool.devices.map((d) => (d.name === name ? next : d));
}
