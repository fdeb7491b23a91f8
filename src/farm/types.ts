// The farm's vocabulary as slim, immutable views: only the fields the dashboard shows,
// timestamps already parsed to epoch milliseconds. Raw Kubernetes objects never get past
// src/kube; everything from the store onwards works with these.

export const DEVICE_STATES = ['Booting', 'Idle', 'Busy', 'Unhealthy'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export const SESSION_PHASES = ['Pending', 'Assigned', 'Running', 'Succeeded', 'Failed', 'Cancelled', 'TimedOut'] as const;
export type SessionPhase = (typeof SESSION_PHASES)[number];
export const FINISHED_PHASES: ReadonlySet<SessionPhase> = new Set(['Succeeded', 'Failed', 'Cancelled', 'TimedOut']);

export const ARTIFACT_KINDS = ['video', 'logcat', 'junit', 'screenshot', 'other'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionAt: number | undefined;
}

interface ObjectView {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  createdAt: number | undefined;
  labels: Readonly<Record<string, string>>;
}

export interface TemplateView extends ObjectView {
  androidVersion: string;
  avdProfile: string;
  emulationBackend: string;
  cpu: string;
  memory: string;
  apps: ReadonlyArray<{ packageName: string; apkURL: string }>;
}

export type DeviceCounts = Record<DeviceState, number>;

export interface DeviceView {
  name: string;
  state: DeviceState;
  podName: string;
  nodeName: string;
  streamURL: string;
  appiumURL: string;
  session: string;
  bootStartedAt: number | undefined;
  readyAt: number | undefined;
  lastHeartbeatAt: number | undefined;
  message: string;
}

export interface PoolView extends ObjectView {
  templateName: string;
  replicas: number;
  generation: number;
  observedGeneration: number;
  /** As reported by the operator in status.counts. */
  counts: DeviceCounts;
  devices: readonly DeviceView[];
  conditions: readonly Condition[];
}

export interface ArtifactView {
  name: string;
  kind: ArtifactKind;
  url: string;
  sizeBytes: number | undefined;
}

export interface SessionSpecView {
  poolName: string;
  /** The one device this session may take ('' for any idle device of the pool). */
  deviceName: string;
  timeoutSeconds: number;
  apps: ReadonlyArray<{ packageName: string; apkURL: string }>;
  runner:
    | {
        image: string;
        command: readonly string[];
        args: readonly string[];
        env: ReadonlyArray<{ name: string; value: string }>;
      }
    | undefined;
  cancelRequested: boolean;
}

export interface SessionView extends ObjectView {
  spec: SessionSpecView;
  phase: SessionPhase;
  device: { name: string; streamURL: string; appiumURL: string } | undefined;
  podName: string;
  assignedAt: number | undefined;
  startedAt: number | undefined;
  completedAt: number | undefined;
  progress: { completed: number; total: number } | undefined;
  results: { passed: number; failed: number; skipped: number } | undefined;
  artifacts: readonly ArtifactView[];
  reason: string;
  message: string;
  conditions: readonly Condition[];
  /** The session this one retries (droidfarm.io/retry-of), '' when it is not a retry. */
  retryOf: string;
  /**
   * A device claim (no runner) made as a lease: who holds it and why (annotations set by the
   * dashboard's "Use this device"; the requested-by label wins for who, when it is set).
   */
  lease: { holder: string; reason: string } | undefined;
}

/** A Kubernetes Event about a pool, a session or a pod. */
export interface EventView {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  involved: { kind: string; name: string; namespace: string };
  count: number;
  firstAt: number | undefined;
  lastAt: number | undefined;
  source: string;
}
