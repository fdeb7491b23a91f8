// The JSON shapes of the public API (/api/v1) and of its event stream. Field names are a
// contract with scripts: add fields, never rename or remove them. Times are RFC 3339.
import { leaseEndsAt } from './lease.js';
import { isHeartbeatStale } from './devices.js';
import { summarisePool } from './stats.js';
import type { DeviceView, PoolView, SessionView, TemplateView } from './types.js';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function templateJSON(t: TemplateView) {
  return {
    namespace: t.namespace,
    name: t.name,
    androidVersion: t.androidVersion,
    avdProfile: t.avdProfile,
    emulationBackend: t.emulationBackend,
    resources: { cpu: t.cpu, memory: t.memory },
    apps: t.apps.map((a) => ({ packageName: a.packageName, apkURL: a.apkURL })),
    createdAt: iso(t.createdAt),
  };
}

export function poolJSON(p: PoolView) {
  const s = summarisePool(p);
  return {
    namespace: p.namespace,
    name: p.name,
    template: p.templateName,
    replicas: p.replicas,
    devices: s.total,
    counts: { booting: s.counts.Booting, idle: s.counts.Idle, busy: s.counts.Busy, unhealthy: s.counts.Unhealthy },
    idleCapacity: s.idleCapacity,
    reconciling: s.reconciling,
    labels: { ...p.labels },
    conditions: p.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: iso(c.lastTransitionAt) })),
    createdAt: iso(p.createdAt),
  };
}

export function deviceJSON(d: DeviceView, now: number) {
  return {
    name: d.name,
    state: d.state,
    session: d.session || null,
    podName: d.podName || null,
    nodeName: d.nodeName || null,
    streamURL: d.streamURL || null,
    appiumURL: d.appiumURL || null,
    bootStartedAt: iso(d.bootStartedAt),
    readyAt: iso(d.readyAt),
    lastHeartbeatTime: iso(d.lastHeartbeatAt),
    heartbeatStale: isHeartbeatStale(d, now),
    message: d.message || null,
  };
}

export function sessionSummaryJSON(s: SessionView) {
  return {
    namespace: s.namespace,
    name: s.name,
    pool: s.spec.poolName,
    phase: s.phase,
    device: s.device?.name ?? null,
    progress: s.progress ?? null,
    results: s.results ?? null,
    reason: s.reason || null,
    message: s.message || null,
    createdAt: iso(s.createdAt),
    startTime: iso(s.startedAt),
    completionTime: iso(s.completedAt),
  };
}

/**
 * One session in full: the summary, plus what was asked (spec), labels and artifacts. Runner
 * env values may be secrets (tokens, passwords): anyone who can reach the dashboard reads
 * this, so they are left out unless the dashboard was told to show them (--show-runner-env).
 */
export function sessionJSON(s: SessionView, { showEnvValues = false }: { showEnvValues?: boolean } = {}) {
  return {
    ...sessionSummaryJSON(s),
    labels: { ...s.labels },
    spec: {
      pool: s.spec.poolName,
      deviceName: s.spec.deviceName || null,
      timeoutSeconds: s.spec.timeoutSeconds,
      apps: s.spec.apps.map((a) => ({ packageName: a.packageName, apkURL: a.apkURL })),
      runner: s.spec.runner ? { image: s.spec.runner.image, command: [...s.spec.runner.command], args: [...s.spec.runner.args], env: s.spec.runner.env.map((e) => (showEnvValues ? { ...e } : { name: e.name, hidden: true })) } : null,
      cancelRequested: s.spec.cancelRequested,
    },
    podName: s.podName || null,
    assignTime: iso(s.assignedAt),
    artifacts: s.artifacts.map((a) => ({ name: a.name, kind: a.kind, url: a.url, sizeBytes: a.sizeBytes ?? null })),
    // A device held for manual use: who, why, and when it ends (null before it is assigned).
    lease: s.lease ? { holder: s.lease.holder || null, reason: s.lease.reason || null, endsAt: iso(leaseEndsAt(s)) } : null,
  };
}
