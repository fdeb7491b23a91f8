// Slim views built by hand for unit tests of pure logic (no cluster involved).
import type { DeviceView, SessionView } from '../../src/farm/types.js';

/** An Idle device with no heartbeat yet; `patch` sets whatever the test is about. */
export function deviceView(name: string, patch: Partial<DeviceView> = {}): DeviceView {
  return {
    name,
    state: 'Idle',
    podName: `${name}-cvd`,
    nodeName: 'n1',
    streamURL: '',
    appiumURL: '',
    session: '',
    bootStartedAt: undefined,
    readyAt: undefined,
    lastHeartbeatAt: undefined,
    message: '',
    ...patch,
  };
}

/** A Pending session of pool `pool` created at `createdAt`; `patch` sets the rest. */
export function sessionView(namespace: string, name: string, createdAt: number | undefined, patch: Partial<SessionView> = {}): SessionView {
  return {
    namespace,
    name,
    uid: `uid-${namespace}-${name}`,
    resourceVersion: '1',
    createdAt,
    labels: {},
    spec: { poolName: 'pool', deviceName: '', timeoutSeconds: 1800, apps: [], runner: undefined, cancelRequested: false },
    phase: 'Pending',
    device: undefined,
    podName: '',
    assignedAt: undefined,
    startedAt: undefined,
    completedAt: undefined,
    progress: undefined,
    results: undefined,
    artifacts: [],
    reason: '',
    message: '',
    conditions: [],
    retryOf: '',
    lease: undefined,
    ...patch,
  };
}
