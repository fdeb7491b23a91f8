// The bench's farm: a MemoryCluster with one template and one DevicePool of `size` devices in
// every state (as an operator would report them), and the one-device change the fan-out
// bench times. No simulator runs: the only changes are the ones the bench makes.
import { MemoryCluster } from '../../src/kube/memory-cluster.js';
import type { Cluster } from '../../src/kube/types.js';

export const NAMESPACE = 'bench';
export const POOL = 'farm';
export const TEMPLATE = 'pixel-8-android-15';
export const TOPIC = `pool:${NAMESPACE}/${POOL}`;

export interface BenchDevice {
  name: string;
  state: 'Booting' | 'Idle' | 'Busy' | 'Unhealthy';
  podName: string;
  nodeName: string;
  streamURL: string;
  appiumURL: string;
  session?: string;
  message?: string;
  bootStartedAt: string;
  readyAt?: string;
}

/** A realistic mix: mostly Idle and Busy (with a session), a few Booting and Unhealthy. */
export function makeDevices(size: number): BenchDevice[] {
  const at = new Date(Date.UTC(2026, 0, 1, 8)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return Array.from({ length: size }, (_, i) => {
    const name = `${POOL}-${i}`;
    const state = i % 20 === 7 ? 'Unhealthy' : i % 20 === 13 ? 'Booting' : i % 2 === 0 ? 'Busy' : 'Idle';
    const d: BenchDevice = {
      name,
      state,
      podName: `droidfarm-${name}`,
      nodeName: `kvm-worker-${Math.floor(i / 8)}`,
      streamURL: `https://webrtc.farm.example.com/devices/${name}/`,
      appiumURL: `http://droidfarm-${name}.droidfarm-devices.svc:4723/wd/hub`,
      bootStartedAt: at,
    };
    if (state !== 'Booting') d.readyAt = at;
    if (state === 'Busy') d.session = `nightly-checkout-${i}`;
    if (state === 'Booting') d.message = 'waiting for sys.boot_completed';
    if (state === 'Unhealthy') d.message = 'adb: device offline';
    // No lastHeartbeatTime: heartbeats would make tiles go stale (and re-render) mid-run.
    return d;
  });
}

export function statusOf(devices: readonly BenchDevice[]): Record<string, unknown> {
  const counts = { booting: 0, idle: 0, busy: 0, unhealthy: 0 };
  for (const d of devices) counts[d.state.toLowerCase() as keyof typeof counts]++;
  return { observedGeneration: 1, replicas: devices.length, counts, devices, conditions: [{ type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: '', lastTransitionTime: '2026-01-01T08:00:00Z' }] };
}

/** The farm in a fresh MemoryCluster, or in the given cluster (a real apiserver, its namespace made). */
export async function createFarm<C extends Cluster = MemoryCluster>(size: number, into?: C): Promise<{ cluster: C; devices: BenchDevice[] }> {
  const cluster = (into ?? new MemoryCluster()) as C;
  await cluster.create('templates', NAMESPACE, {
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DeviceTemplate',
    metadata: { name: TEMPLATE, namespace: NAMESPACE },
    spec: { androidVersion: '15', avdProfile: 'pixel_8', emulationBackend: 'cuttlefish', resources: { cpu: '4', memory: '8Gi' } },
  });
  await cluster.create('pools', NAMESPACE, { apiVersion: 'droidfarm.io/v1alpha1', kind: 'DevicePool', metadata: { name: POOL, namespace: NAMESPACE }, spec: { templateRef: { name: TEMPLATE }, replicas: size } });
  const devices = makeDevices(size);
  await cluster.patch('pools', NAMESPACE, POOL, { status: statusOf(devices) }, { subresource: 'status' });
  return { cluster, devices };
}

/**
 * The marker a changed device carries in its message (shown in the tile's title), so every
 * client can tell which change an event delivers and when it was made: the patching process's
 * wall clock, which clients on the same machine share.
 */
export const MARKER = 'bench-change-';
export const markerFor = (round: number, at: number): string => `${MARKER}${round}-at-${at}`;

/**
 * Flips one device between Idle and Busy with a status patch (the whole device list, as a
 * merge patch replaces arrays; the operator writes it the same way). Returns when the patch
 * was made, in ms since the epoch.
 */
export async function changeOneDevice(cluster: Cluster, devices: BenchDevice[], round: number): Promise<number> {
  const i = (round * 37) % devices.length;
  const d = devices[i]!;
  const busy = d.state !== 'Busy';
  const at = Date.now();
  devices[i] = { ...d, state: busy ? 'Busy' : 'Idle', session: busy ? `bench-session-${round}` : '', message: markerFor(round, at) };
  if (!busy) delete devices[i]!.session;
  await cluster.patch('pools', NAMESPACE, POOL, { status: statusOf(devices) }, { subresource: 'status' });
  return at;
}

/** The list topic of every session in the bench namespace, as /sessions?namespace=bench subscribes. */
export const SESSIONS_TOPIC = `sessions?namespace=${NAMESPACE}`;

/** `count` Running sessions on the bench pool, the kind whose progress ticks all day. */
export async function createSessions(cluster: Cluster, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const name = `bench-run-${i}`;
    await cluster.create('sessions', NAMESPACE, { metadata: { name, namespace: NAMESPACE, labels: { team: i % 2 ? 'payments' : 'search' } }, spec: { poolRef: { name: POOL } } });
    await cluster.patch('sessions', NAMESPACE, name, { status: { phase: 'Running', startTime: new Date().toISOString(), progress: { completed: 0, total: 1000 } } }, { subresource: 'status' });
  }
}

/** One step of one session's progress: what an operator sees most often on /sessions. */
export async function tickSession(cluster: Cluster, count: number, tick: number): Promise<void> {
  const i = tick % count;
  await cluster.patch('sessions', NAMESPACE, `bench-run-${i}`, { status: { progress: { completed: Math.floor(tick / count) % 1000, total: 1000 } } }, { subresource: 'status' });
}
