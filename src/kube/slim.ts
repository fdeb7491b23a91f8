// Raw objects become slim views here, once, at the cluster boundary: unknown fields are
// dropped (managedFields and friends), timestamps are parsed, and odd values from a
// misbehaving writer become safe defaults instead of crashing a page later.
import {
  ARTIFACT_KINDS,
  DEVICE_STATES,
  SESSION_PHASES,
  type ArtifactKind,
  type Condition,
  type DeviceCounts,
  type DeviceState,
  type DeviceView,
  type EventView,
  type PoolView,
  type SessionPhase,
  type SessionView,
  type TemplateView,
} from '../farm/types.js';
import type { KubeObject } from './types.js';
import { REQUESTED_BY } from '../farm/audit.js';

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const int = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : fallback);
const optInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : undefined);

/** Watch events carry RFC 3339 strings; lists may carry Date objects. Both become epoch ms. */
export function time(v: unknown): number | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.getTime();
  if (typeof v !== 'string' || v === '') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

function oneOf<T extends string>(values: readonly T[], v: unknown, fallback: T): T {
  return values.includes(v as T) ? (v as T) : fallback;
}

function labels(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v))) if (typeof val === 'string') out[k] = val;
  return out;
}

function meta(o: KubeObject) {
  const m = o.metadata;
  return {
    namespace: str(m.namespace),
    name: str(m.name),
    uid: str(m.uid),
    resourceVersion: str(m.resourceVersion),
    createdAt: time(m.creationTimestamp),
    labels: labels(m.labels),
  };
}

function conditions(v: unknown): Condition[] {
  return arr(v).map((c) => {
    const o = obj(c);
    return {
      type: str(o.type),
      status: oneOf(['True', 'False', 'Unknown'] as const, o.status, 'Unknown'),
      reason: str(o.reason),
      message: str(o.message),
      lastTransitionAt: time(o.lastTransitionTime),
    };
  });
}

function apps(v: unknown, urlField: 'apkURL' | 'apkSource'): Array<{ packageName: string; apkURL: string }> {
  return arr(v).map((a) => {
    const o = obj(a);
    return { packageName: str(o.packageName), apkURL: urlField === 'apkURL' ? str(o.apkURL) : str(obj(o.apkSource).url) };
  });
}

export function toTemplateView(o: KubeObject): TemplateView {
  const spec = obj(o.spec);
  const resources = obj(spec.resources);
  return {
    ...meta(o),
    androidVersion: str(spec.androidVersion),
    avdProfile: str(spec.avdProfile),
    emulationBackend: str(spec.emulationBackend),
    cpu: str(resources.cpu),
    memory: str(resources.memory),
    apps: apps(spec.appConfig, 'apkSource'),
  };
}

export function toDeviceView(v: unknown): DeviceView {
  const d = obj(v);
  return {
    name: str(d.name),
    state: oneOf<DeviceState>(DEVICE_STATES, d.state, 'Unhealthy'),
    podName: str(d.podName),
    nodeName: str(d.nodeName),
    streamURL: str(d.streamURL),
    appiumURL: str(d.appiumURL),
    session: str(d.session),
    bootStartedAt: time(d.bootStartedAt),
    readyAt: time(d.readyAt),
    lastHeartbeatAt: time(d.lastHeartbeatTime),
    message: str(d.message),
  };
}

export function toPoolView(o: KubeObject): PoolView {
  const spec = obj(o.spec);
  const status = obj(o.status);
  const counts = obj(status.counts);
  const reported: DeviceCounts = {
    Booting: int(counts.booting),
    Idle: int(counts.idle),
    Busy: int(counts.busy),
    Unhealthy: int(counts.unhealthy),
  };
  return {
    ...meta(o),
    templateName: str(obj(spec.templateRef).name),
    replicas: int(spec.replicas),
    generation: int(o.metadata.generation),
    observedGeneration: int(status.observedGeneration),
    counts: reported,
    devices: arr(status.devices).map(toDeviceView).filter((d) => d.name !== ''),
    conditions: conditions(status.conditions),
  };
}

export function toSessionView(o: KubeObject): SessionView {
  const spec = obj(o.spec);
  const status = obj(o.status);
  const runner = spec.runner === undefined ? undefined : obj(spec.runner);
  const device = status.device === undefined ? undefined : obj(status.device);
  const progress = status.progress === undefined ? undefined : obj(status.progress);
  const results = status.results === undefined ? undefined : obj(status.results);
  return {
    ...meta(o),
    spec: {
      poolName: str(obj(spec.poolRef).name),
      deviceName: str(spec.deviceName),
      timeoutSeconds: int(spec.timeoutSeconds, 1800),
      apps: apps(spec.apps, 'apkURL'),
      runner: runner && {
        image: str(runner.image),
        command: arr(runner.command).map(str),
        args: arr(runner.args).map(str),
        env: arr(runner.env).map((e) => ({ name: str(obj(e).name), value: str(obj(e).value) })),
      },
      cancelRequested: spec.cancelRequested === true,
    },
    phase: oneOf<SessionPhase>(SESSION_PHASES, status.phase, 'Pending'),
    device: device && device.name ? { name: str(device.name), streamURL: str(device.streamURL), appiumURL: str(device.appiumURL) } : undefined,
    podName: str(status.podName),
    assignedAt: time(status.assignedAt),
    startedAt: time(status.startTime),
    completedAt: time(status.completionTime),
    progress: progress && { completed: int(progress.completed), total: int(progress.total) },
    results: results && { passed: int(results.passed), failed: int(results.failed), skipped: int(results.skipped) },
    artifacts: arr(status.artifacts).map((a) => {
      const x = obj(a);
      return { name: str(x.name), kind: oneOf<ArtifactKind>(ARTIFACT_KINDS, x.kind, 'other'), url: str(x.url), sizeBytes: optInt(x.sizeBytes) };
    }),
    reason: str(status.reason),
    message: str(status.message),
    conditions: conditions(status.conditions),
    // The annotation holds the whole name; the label only a short form when it is long.
    retryOf: str(obj(o.metadata.annotations)[RETRY_OF]) || str(obj(o.metadata.labels)[RETRY_OF]),
    lease: runner === undefined ? leaseOf(o) : undefined,
  };
}

/** Who holds a claim and why, from what the dashboard wrote; undefined for a claim made elsewhere without either. */
function leaseOf(o: KubeObject): { holder: string; reason: string } | undefined {
  const annotations = obj(o.metadata.annotations);
  const holder = str(obj(o.metadata.labels)[REQUESTED_BY]) || str(annotations[LEASE_HOLDER]);
  const reason = str(annotations[LEASE_REASON]);
  return holder || reason ? { holder: holder.slice(0, 253), reason: reason.slice(0, 1024) } : undefined;
}

/** The person who asked for an object (set by the dashboard when it knows who that is). */
/** A lease's holder as typed on the lease form, and why the device is held. */
export const LEASE_HOLDER = 'droidfarm.io/lease-holder';
export const LEASE_REASON = 'droidfarm.io/lease-reason';

/** Set by Retry on the new session: the label (for selectors) and the annotation (the whole name). */
export const RETRY_OF = 'droidfarm.io/retry-of';

export function toEventView(o: KubeObject): EventView {
  const e = o as KubeObject & Obj;
  const involved = obj(e.involvedObject);
  const source = obj(e.source);
  const series = obj(e.series);
  return {
    namespace: str(o.metadata.namespace),
    name: str(o.metadata.name),
    uid: str(o.metadata.uid),
    resourceVersion: str(o.metadata.resourceVersion),
    type: e.type === 'Warning' ? 'Warning' : 'Normal',
    reason: str(e.reason),
    message: str(e.message),
    involved: { kind: str(involved.kind), name: str(involved.name), namespace: str(involved.namespace) || str(o.metadata.namespace) },
    count: int(series.count, int(e.count, 1)),
    firstAt: time(e.firstTimestamp) ?? time(e.eventTime) ?? time(o.metadata.creationTimestamp),
    lastAt: time(series.lastObservedTime) ?? time(e.lastTimestamp) ?? time(e.eventTime) ?? time(o.metadata.creationTimestamp),
    source: str(source.component) || str(e.reportingComponent),
  };
}
