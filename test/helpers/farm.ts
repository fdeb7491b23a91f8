// Writes DroidFarm objects straight to the test API server with client-node, independent
// of the dashboard's own cluster code: the tests play the operator.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { adminKubeConfig } from './cluster.js';

const GROUP = 'droidfarm.io';
const VERSION = 'v1alpha1';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export type DeviceState = 'Booting' | 'Idle' | 'Busy' | 'Unhealthy';

export interface TestDevice {
  name: string;
  state: DeviceState;
  session?: string;
  podName?: string;
  message?: string;
  streamURL?: string;
  lastHeartbeatTime?: string;
}

export function api(): CustomObjectsApi {
  return adminKubeConfig().makeApiClient(CustomObjectsApi);
}

export async function createTemplate(namespace: string, name = 'pixel-6'): Promise<void> {
  await api().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'devicetemplates',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'DeviceTemplate',
      metadata: { name },
      spec: { androidVersion: '14', avdProfile: 'pixel_6', emulationBackend: 'cuttlefish' },
    },
  });
}

export async function createPool(namespace: string, name: string, replicas: number, template = 'pixel-6', labels: Record<string, string> = {}): Promise<void> {
  await api().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'devicepools',
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'DevicePool', metadata: { name, labels }, spec: { templateRef: { name: template }, replicas } },
  });
}

/** Writes status.devices (and matching counts) through the status subresource. */
export async function setDevices(namespace: string, pool: string, devices: TestDevice[]): Promise<void> {
  const counts = { booting: 0, idle: 0, busy: 0, unhealthy: 0 };
  for (const d of devices) counts[d.state.toLowerCase() as keyof typeof counts]++;
  await api().patchNamespacedCustomObjectStatus(
    { group: GROUP, version: VERSION, namespace, plural: 'devicepools', name: pool, body: { status: { counts, devices, replicas: devices.length } } },
    mergePatch,
  );
}

/** Writes status.conditions of a pool through the status subresource. */
export async function setPoolConditions(namespace: string, pool: string, conditions: Array<Record<string, string>>): Promise<void> {
  await api().patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: 'devicepools', name: pool, body: { status: { conditions } } }, mergePatch);
}

export async function scalePool(namespace: string, pool: string, replicas: number): Promise<void> {
  await api().patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'devicepools', name: pool, body: { spec: { replicas } } }, mergePatch);
}

export async function deletePool(namespace: string, pool: string): Promise<void> {
  await api().deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'devicepools', name: pool });
}

export async function listPools(namespace: string): Promise<Array<{ metadata: { name: string }; spec: { replicas: number }; status?: { devices?: TestDevice[] } }>> {
  const list = (await api().listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'devicepools' })) as { items: never[] };
  return list.items;
}

export function devices(prefix: string, count: number, state: DeviceState = 'Idle'): TestDevice[] {
  return Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i}`, state }));
}

export interface TestSessionSpec {
  pool: string;
  labels?: Record<string, string>;
  timeoutSeconds?: number;
  runner?: { image: string; command?: string[]; args?: string[]; env?: Array<{ name: string; value: string }> };
}

export async function createSession(namespace: string, name: string, spec: TestSessionSpec): Promise<void> {
  await api().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'testsessions',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'TestSession',
      metadata: { name, labels: spec.labels ?? {} },
      spec: { poolRef: { name: spec.pool }, ...(spec.timeoutSeconds ? { timeoutSeconds: spec.timeoutSeconds } : {}), ...(spec.runner ? { runner: spec.runner } : {}) },
    },
  });
}

/** Merges `status` into the session's status through the status subresource (as the operator does). */
export async function setSessionStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
  await api().patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: 'testsessions', name, body: { status } }, mergePatch);
}

export interface TestEvent {
  /** The DroidFarm object it is about. */
  kind: 'DevicePool' | 'TestSession';
  object: string;
  reason: string;
  message: string;
  type?: 'Normal' | 'Warning';
  at?: Date;
}

/** Records a Kubernetes Event about a pool or a session, as the operator would. */
export async function recordEvent(namespace: string, name: string, e: TestEvent): Promise<void> {
  const at = e.at ?? new Date();
  await adminKubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespacedEvent({
      namespace,
      body: {
        metadata: { name },
        involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: e.kind, name: e.object, namespace },
        reason: e.reason,
        message: e.message,
        type: e.type ?? 'Normal',
        count: 1,
        firstTimestamp: at,
        lastTimestamp: at,
        source: { component: 'droidfarm-operator' },
      },
    });
}
