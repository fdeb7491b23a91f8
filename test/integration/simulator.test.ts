// The farm simulator against the real kube-apiserver (the CRD schemas are the contract
// for every status write) and against the in-memory cluster, which must tell the same
// story for the same seed.
//
// One scenario, driven tick by tick (no timers, no sleeps) at a high speed so simulated
// minutes pass in milliseconds. Everything it reacts to is simulator state, and the
// simulator is told of each of the test's own writes (expectWrite), so its next tick sees
// them through its watch as a list would have: the same seed gives the same run on either
// cluster:
//   pool "alpha" with 2 devices, made from the example template;
//   s1-smoke    (runner)    runs to Succeeded or Failed;
//   s2-checkout (runner)    is stopped (cancelRequested) once it is Running → Cancelled;
//   s3-claim    (no runner) waits for a device, gets s2's, holds it until its timeout (TimedOut);
//   s4-queued   (runner)    is stopped while still Pending → Cancelled;
//   when s3 runs, alpha is scaled down to 1 (its busy device must stay until s3 ends),
//   once everything is final it is scaled up to 3, and the run ends when the new devices
//   are Idle and so are the others (an old one may just be rebooting: devices turn
//   Unhealthy now and then, when is drawn from a stream seeded by the fresh namespace's name).
// Session names sort in creation order: creationTimestamp has 1 s resolution on the API
// server, so sessions created within one second are queued by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeCluster, loadKubeConfig } from '../../src/kube/kube-cluster.js';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';
import type { Cluster, KubeObject, NewKubeObject } from '../../src/kube/types.js';
import { FarmSimulator, type Transition } from '../../src/sim/simulator.js';
import { clusterInfo, freshNamespace } from '../helpers/cluster.js';

type Json = Record<string, any>;
type Recorded = Transition & { tick: number };

const root = join(import.meta.dirname, '..', '..');
const SEED = 7;
/** 20 simulated seconds per 500 ms tick: a boot takes a couple of ticks, a run a few dozen. */
const SPEED = 40;
const TICK_MS = 500;
const MAX_TICKS = 400;
const FINAL = new Set(['Succeeded', 'Failed', 'Cancelled', 'TimedOut']);
const SESSIONS = ['s1-smoke', 's2-checkout', 's3-claim', 's4-queued'] as const;
const DEVICE_MOVES: Record<string, string[]> = {
  Booting: ['Idle'],
  Idle: ['Busy', 'Unhealthy'],
  Busy: ['Idle'],
  Unhealthy: ['Booting'],
};

function exampleTemplate(): NewKubeObject {
  const docs = loadAllYaml(readFileSync(join(root, 'deploy/examples/devicetemplates.yaml'), 'utf8')) as Json[];
  const t = docs.find((d) => d.metadata.name === 'pixel-6-android-14')!;
  return { apiVersion: t.apiVersion, kind: t.kind, metadata: { name: t.metadata.name }, spec: t.spec };
}

// apiVersion and kind are required by the API server (the in-memory cluster fills them in).
function pool(name: string, replicas: number): NewKubeObject {
  return {
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DevicePool',
    metadata: { name, labels: { 'droidfarm.io/team': 'sim-test' } },
    spec: { templateRef: { name: 'pixel-6-android-14' }, replicas },
  };
}

function session(name: string, spec: Json): NewKubeObject {
  return { apiVersion: 'droidfarm.io/v1alpha1', kind: 'TestSession', metadata: { name }, spec: { poolRef: { name: 'alpha' }, ...spec } };
}

const runner = (suite: string) => ({
  image: 'registry.example.com/qa/shop-e2e:2.14.1',
  command: ['/runner/bin/run-suite'],
  args: ['--suite', suite],
  env: [{ name: 'LOG_LEVEL', value: 'info' }],
});
const apps = [{ packageName: 'com.example.shop', apkURL: 'https://artifacts.example.com/apks/shop/2.14.1/shop-release.apk' }];

/** Everything exists before the simulator starts. Created one by one, in name order. */
async function createFixtures(cluster: Cluster, namespace: string): Promise<void> {
  await cluster.create('templates', namespace, exampleTemplate());
  await cluster.create('pools', namespace, pool('alpha', 2));
  await cluster.create('sessions', namespace, session('s1-smoke', { timeoutSeconds: 1800, apps, runner: runner('smoke') }));
  await cluster.create('sessions', namespace, session('s2-checkout', { timeoutSeconds: 1800, apps, runner: runner('checkout') }));
  await cluster.create('sessions', namespace, session('s3-claim', { timeoutSeconds: 1800 }));
  await cluster.create('sessions', namespace, session('s4-queued', { apps, runner: runner('search') }));
}

interface Run {
  transitions: Recorded[];
  warnings: string[];
  ticks: number;
  /** Session statuses as read back after tick 1. */
  afterFirstTick: Map<string, Json>;
  scaledDownAt: number;
  scaledUpAt: number;
  /** Max devices seen in alpha's status while scaled down and s3 still ran. */
  busyKeptWhileScaledDown: boolean;
}

function lastOf(transitions: Recorded[], pick: (t: Recorded) => string | undefined): Map<string, string> {
  const last = new Map<string, string>();
  for (const t of transitions) {
    const key = pick(t);
    if (key !== undefined) last.set(key, t.kind === 'device' ? t.state : t.phase);
  }
  return last;
}
const deviceStates = (ts: Recorded[]) => lastOf(ts, (t) => (t.kind === 'device' ? t.device : undefined));
const sessionPhases = (ts: Recorded[]) => lastOf(ts, (t) => (t.kind === 'session' ? t.session : undefined));

/**
 * Reads alpha and the sessions back through the same cluster and checks them against the
 * simulator's own account (its transitions): states, counts, session/device links.
 */
async function verifyStatus(cluster: Cluster, namespace: string, transitions: Recorded[], tick: number): Promise<KubeObject> {
  const at = `tick ${tick}`;
  const pool = await cluster.get('pools', namespace, 'alpha');
  const status = (pool.status ?? {}) as Json;
  const devices = (status.devices ?? []) as Json[];
  const states = deviceStates(transitions);
  const phases = sessionPhases(transitions);

  const counts = { booting: 0, idle: 0, busy: 0, unhealthy: 0 } as Record<string, number>;
  for (const d of devices) {
    counts[String(d.state).toLowerCase()]!++;
    expect(d.state, `${at}: state of ${d.name}`).toBe(states.get(d.name));
    expect(d.podName, `${at}: podName of ${d.name}`).toMatch(/^[a-z0-9-]+$/);
    expect(d.streamURL, `${at}: streamURL of ${d.name}`).toMatch(/^https:\/\//);
    expect(d.appiumURL, `${at}: appiumURL of ${d.name}`).toMatch(/^https:\/\//);
    expect(d.lastHeartbeatTime, `${at}: heartbeat of ${d.name}`).toBeTypeOf('string');
    if (d.state === 'Busy') {
      expect(['Assigned', 'Running'], `${at}: ${d.name} is Busy with ${d.session}`).toContain(phases.get(d.session));
    } else {
      expect(d.session, `${at}: ${d.name} is ${d.state} but names a session`).toBeUndefined();
    }
    if (d.state === 'Booting') expect(d.readyAt, `${at}: ${d.name} is Booting but has readyAt`).toBeUndefined();
    else expect(d.readyAt, `${at}: readyAt of ${d.name}`).toBeTypeOf('string');
  }
  expect(status.counts, `${at}: counts`).toEqual(counts);
  expect(status.replicas, `${at}: status.replicas`).toBe(devices.length);
  expect(status.observedGeneration, `${at}: observedGeneration`).toBe(pool.metadata.generation);
  const ready = (status.conditions as Json[]).find((c) => c.type === 'Ready')!;
  expect(ready.status, `${at}: Ready`).toBe(counts.booting === 0 && devices.length === (pool.spec as Json).replicas ? 'True' : 'False');
  // A device the simulator holds Busy is never missing from the status.
  for (const [name, state] of states) {
    if (state === 'Busy') expect(devices.map((d) => d.name), `${at}: busy ${name} is listed`).toContain(name);
  }

  const { items } = await cluster.list('sessions', namespace);
  for (const s of items) {
    const phase = phases.get(s.metadata.name);
    const st = (s.status ?? {}) as Json;
    if (phase === undefined) continue;
    if (phase === 'Pending') expect(st.phase ?? 'Pending', `${at}: phase of ${s.metadata.name}`).toBe('Pending');
    else expect(st.phase, `${at}: phase of ${s.metadata.name}`).toBe(phase);
    if (phase === 'Assigned' || phase === 'Running') {
      const device = devices.find((d) => d.name === st.device?.name);
      expect(device, `${at}: device of ${s.metadata.name}`).toMatchObject({ state: 'Busy', session: s.metadata.name });
    }
  }
  return pool;
}

async function runScenario(cluster: Cluster, namespace: string, seed: number): Promise<Run> {
  await createFixtures(cluster, namespace);
  const transitions: Recorded[] = [];
  const warnings: string[] = [];
  let tick = 0;
  const sim = new FarmSimulator({
    cluster,
    namespace,
    seed,
    speed: SPEED,
    tickMs: TICK_MS,
    onTransition: (t) => transitions.push({ ...t, tick }),
    log: { warn: (obj, msg) => warnings.push(`${msg}: ${String((obj as { err?: unknown }).err ?? JSON.stringify(obj))}`) },
  });
  const run: Run = { transitions, warnings, ticks: 0, afterFirstTick: new Map(), scaledDownAt: 0, scaledUpAt: 0, busyKeptWhileScaledDown: false };
  const patchSpec = async (resource: 'pools' | 'sessions', name: string, spec: Json) => sim.expectWrite(resource, await cluster.patch(resource, namespace, name, { spec }));

  for (tick = 1; tick <= MAX_TICKS; tick++) {
    // Any status write the API server refuses makes tick() throw, and so fails the test.
    await sim.tick();
    const pool = await verifyStatus(cluster, namespace, transitions, tick);
    const devices = ((pool.status as Json).devices ?? []) as Json[];
    const phases = sessionPhases(transitions);

    if (tick === 1) {
      for (const s of (await cluster.list('sessions', namespace)).items) run.afterFirstTick.set(s.metadata.name, (s.status ?? {}) as Json);
      await patchSpec('sessions', 's4-queued', { cancelRequested: true });
    }
    if (phases.get('s2-checkout') === 'Running') await patchSpec('sessions', 's2-checkout', { cancelRequested: true });
    if (!run.scaledDownAt && phases.get('s3-claim') === 'Running') {
      await patchSpec('pools', 'alpha', { replicas: 1 });
      run.scaledDownAt = tick;
    }
    if (run.scaledDownAt && !run.scaledUpAt && phases.get('s3-claim') === 'Running' && tick > run.scaledDownAt) {
      const s3Device = devices.find((d) => d.session === 's3-claim');
      if (s3Device?.state === 'Busy') run.busyKeptWhileScaledDown = true;
    }
    const allFinal = SESSIONS.every((s) => FINAL.has(phases.get(s) ?? ''));
    if (run.scaledDownAt && !run.scaledUpAt && allFinal && devices.length === 1) {
      await patchSpec('pools', 'alpha', { replicas: 3 });
      run.scaledUpAt = tick;
    }
    if (run.scaledUpAt) {
      // The devices the scale-up made: first seen after it (an old device may also change
      // meanwhile, e.g. turn Unhealthy, without being one of them).
      const firstSeen = new Map<string, number>();
      for (const t of transitions) if (t.kind === 'device' && !firstSeen.has(t.device)) firstSeen.set(t.device, t.tick);
      const fresh = new Set([...firstSeen].filter(([, at]) => at > run.scaledUpAt).map(([device]) => device));
      const states = deviceStates(transitions);
      if (fresh.size === 2 && [...fresh].every((d) => states.get(d) === 'Idle') && devices.length === 3 && devices.every((d) => d.state === 'Idle')) break;
    }
  }
  await sim.stop();
  run.ticks = tick;
  return run;
}

/** Per object, the ticks and states it went through: what "the same story" means. */
function byObject(transitions: Recorded[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of transitions) {
    const key = t.kind === 'device' ? `device ${t.namespace}/${t.pool}/${t.device}` : `session ${t.namespace}/${t.session}`;
    (out[key] ??= []).push(`${t.tick}:${t.kind === 'device' ? t.state : t.phase}`);
  }
  return out;
}

function sequenceOf(transitions: Recorded[], kind: 'device' | 'session', name: string): string[] {
  return transitions
    .filter((t) => (t.kind === 'device' ? kind === 'device' && t.device === name : kind === 'session' && t.session === name))
    .map((t) => (t.kind === 'device' ? t.state : t.phase));
}

function containsInOrder(sequence: string[], wanted: string[]): boolean {
  let i = 0;
  for (const s of sequence) if (s === wanted[i]) i++;
  return i === wanted.length;
}

let namespace: string;
let real: Run;
let realCluster: KubeCluster;

beforeAll(async () => {
  namespace = await freshNamespace('sim');
  realCluster = new KubeCluster(loadKubeConfig({ kubeconfig: clusterInfo().adminKubeconfig }));
  try {
    real = await runScenario(realCluster, namespace, SEED);
  } catch (err) {
    await realCluster.close();
    throw err;
  }
});
afterAll(async () => {
  await realCluster?.close();
});

describe('farm simulator on the real API server', () => {
  it('finishes the scenario well before the tick limit, with every status write and event accepted', () => {
    expect(real.ticks).toBeLessThan(MAX_TICKS);
    expect(real.warnings).toEqual([]);
  });

  it('takes devices through Booting → Idle → Busy → Idle, and only along allowed moves', async () => {
    const s1 = (await realCluster.get('sessions', namespace, 's1-smoke')).status as Json;
    const s1Device = sequenceOf(real.transitions, 'device', s1.device.name);
    expect(containsInOrder(s1Device, ['Booting', 'Idle', 'Busy', 'Idle']), s1Device.join(' → ')).toBe(true);
    const devices = new Set(real.transitions.flatMap((t) => (t.kind === 'device' ? [t.device] : [])));
    expect(devices.size).toBeGreaterThanOrEqual(4); // two at start, two after the scale-up
    for (const d of devices) {
      const seq = sequenceOf(real.transitions, 'device', d);
      expect(seq[0], `${d}: ${seq.join(' → ')}`).toBe('Booting');
      for (let i = 1; i < seq.length; i++) expect(DEVICE_MOVES[seq[i - 1]!], `${d}: ${seq.join(' → ')}`).toContain(seq[i]);
    }
  });

  it('queues sessions as Pending while no device is idle, then serves them in order of creation', () => {
    for (const name of SESSIONS) {
      expect(real.afterFirstTick.get(name), name).toMatchObject({ phase: 'Pending', reason: 'WaitingForDevice' });
    }
    const assigned = real.transitions.filter((t) => t.kind === 'session' && t.phase === 'Assigned').map((t) => (t as { session: string }).session);
    expect(assigned).toEqual(['s1-smoke', 's2-checkout', 's3-claim']);
  });

  it('runs a session Pending → Assigned → Running → Succeeded|Failed with results and artifacts', async () => {
    const seq = sequenceOf(real.transitions, 'session', 's1-smoke');
    expect(seq.slice(0, 3)).toEqual(['Pending', 'Assigned', 'Running']);
    expect(seq).toHaveLength(4);
    expect(['Succeeded', 'Failed']).toContain(seq[3]);

    const s = (await realCluster.get('sessions', namespace, 's1-smoke')).status as Json;
    expect(s.phase).toBe(seq[3]);
    expect(s.podName).toBe('s1-smoke-runner');
    expect(s.device).toMatchObject({ name: expect.stringMatching(/^alpha-\d+$/), streamURL: expect.stringMatching(/^https:/), appiumURL: expect.stringMatching(/^https:/) });
    for (const field of ['assignedAt', 'startTime', 'completionTime']) expect(Date.parse(s[field]), field).not.toBeNaN();
    expect(Date.parse(s.assignedAt)).toBeLessThanOrEqual(Date.parse(s.startTime));
    expect(Date.parse(s.startTime)).toBeLessThanOrEqual(Date.parse(s.completionTime));
    expect(s.progress.completed).toBe(s.progress.total);
    expect(s.results.passed + s.results.failed + s.results.skipped).toBe(s.progress.total);
    if (s.phase === 'Failed') {
      expect(s.reason).toBe('TestsFailed');
      expect(s.results.failed).toBeGreaterThan(0);
    } else {
      expect(s.reason).toBe('AllTestsPassed');
      expect(s.results.failed).toBe(0);
    }
    const kinds = (s.artifacts as Json[]).map((a) => a.kind).sort();
    expect(kinds).toEqual(s.phase === 'Failed' ? ['junit', 'logcat', 'screenshot', 'video'] : ['junit', 'logcat', 'video']);
    for (const a of s.artifacts as Json[]) {
      expect(a.url).toMatch(new RegExp(`^https://.+/${namespace}/s1-smoke/${a.name.replace('.', '\\.')}$`));
      expect(a.sizeBytes).toBeGreaterThan(0);
    }
  });

  it('ends a session as Cancelled when cancelRequested is set, Running or still Pending', async () => {
    expect(sequenceOf(real.transitions, 'session', 's2-checkout')).toEqual(['Pending', 'Assigned', 'Running', 'Cancelled']);
    expect(sequenceOf(real.transitions, 'session', 's4-queued')).toEqual(['Pending', 'Cancelled']);

    const running = (await realCluster.get('sessions', namespace, 's2-checkout')).status as Json;
    expect(running).toMatchObject({ phase: 'Cancelled', reason: 'CancelRequested' });
    expect(running.results.passed + running.results.failed + running.results.skipped).toBe(running.progress.completed);
    expect(running.progress.completed).toBeLessThan(running.progress.total);
    expect((running.artifacts as Json[]).map((a) => a.kind).sort()).toEqual(['logcat', 'video']);
    expect(Date.parse(running.completionTime)).not.toBeNaN();

    const pending = (await realCluster.get('sessions', namespace, 's4-queued')).status as Json;
    expect(pending).toMatchObject({ phase: 'Cancelled', reason: 'CancelRequested', results: { passed: 0, failed: 0, skipped: 0 } });
    expect(pending.device).toBeUndefined();
    expect(pending.artifacts).toBeUndefined();

    // s3 waited for a device and took the first one given back: s2's when the stop came
    // first, s1's when s1 finished first (both happen; which first depends on s1's drawn
    // run time against the tick the test's stop lands in).
    const claim = (await realCluster.get('sessions', namespace, 's3-claim')).status as Json;
    const s1 = (await realCluster.get('sessions', namespace, 's1-smoke')).status as Json;
    const endedAt = (name: string) => real.transitions.find((t) => t.kind === 'session' && t.session === name && FINAL.has(t.phase))!.tick;
    const assignedAt = real.transitions.find((t) => t.kind === 'session' && t.session === 's3-claim' && t.phase === 'Assigned')!.tick;
    const firstFree = Math.min(endedAt('s1-smoke'), endedAt('s2-checkout'));
    expect(assignedAt).toBeGreaterThanOrEqual(firstFree);
    const freed = [...(endedAt('s2-checkout') === firstFree ? [running.device.name] : []), ...(endedAt('s1-smoke') === firstFree ? [s1.device.name] : [])];
    expect(freed).toContain(claim.device.name);
    expect(claim.podName).toBeUndefined(); // a device claim has no runner pod
    expect(FINAL.has(claim.phase)).toBe(true);
  });

  it('follows spec.replicas down and up, keeping a busy device until its session ends', async () => {
    expect(real.scaledDownAt).toBeGreaterThan(0);
    expect(real.scaledUpAt).toBeGreaterThan(real.scaledDownAt);
    expect(real.busyKeptWhileScaledDown).toBe(true);
    const pool = await realCluster.get('pools', namespace, 'alpha');
    const status = pool.status as Json;
    expect(pool.metadata.generation).toBe(3);
    expect(status.observedGeneration).toBe(3);
    expect(status.replicas).toBe(3);
    expect((status.devices as Json[]).map((d) => d.state)).toEqual(['Idle', 'Idle', 'Idle']);
    expect(status.counts).toEqual({ booting: 0, idle: 3, busy: 0, unhealthy: 0 });
    expect(status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True', reason: 'AllDevicesUp', observedGeneration: 3 })]);
    // New devices get new names, and boot before they serve.
    for (const t of real.transitions.filter((x) => x.kind === 'device' && x.tick > real.scaledUpAt && x.state === 'Booting')) {
      const name = (t as { device: string }).device;
      expect(sequenceOf(real.transitions, 'device', name)[0]).toBe('Booting');
    }
  });

  it('records Kubernetes Events for the sessions and the pool', async () => {
    const { items } = await realCluster.list('events', namespace);
    const reasons = (kind: string, name: string) =>
      items.filter((e) => (e.involvedObject as Json).kind === kind && (e.involvedObject as Json).name === name).map((e) => e.reason as string);
    const s1 = (await realCluster.get('sessions', namespace, 's1-smoke')).status as Json;
    expect(reasons('TestSession', 's1-smoke')).toEqual(expect.arrayContaining(['DeviceAssigned', 'Started', s1.reason]));
    expect(reasons('TestSession', 's2-checkout')).toEqual(expect.arrayContaining(['DeviceAssigned', 'Started', 'CancelRequested']));
    expect(reasons('TestSession', 's4-queued')).toEqual(['CancelRequested']);
    expect(reasons('DevicePool', 'alpha').filter((r) => r === 'DeviceReady').length).toBeGreaterThanOrEqual(4);
    const e = items.find((x) => x.reason === 'Started')!;
    expect(e).toMatchObject({ type: 'Normal', source: { component: 'droidfarm-simulator' }, involvedObject: { apiVersion: 'droidfarm.io/v1alpha1', namespace } });
    expect(items.find((x) => x.reason === 'CancelRequested')).toMatchObject({ type: 'Warning' });
  });
});

describe('farm simulator determinism', () => {
  it('tells the same story on the in-memory cluster as on the API server for the same seed', async () => {
    const memory = new MemoryCluster();
    const run = await runScenario(memory, namespace, SEED);
    await memory.close();
    expect(run.warnings).toEqual([]);
    expect(run.ticks).toBe(real.ticks);
    expect(byObject(run.transitions)).toEqual(byObject(real.transitions));
  });

  it('tells the same story twice for one seed and a different one for another seed', async () => {
    const runs: Run[] = [];
    for (const seed of [SEED, SEED, SEED + 1]) {
      const memory = new MemoryCluster();
      runs.push(await runScenario(memory, namespace, seed));
      await memory.close();
    }
    expect(byObject(runs[1]!.transitions)).toEqual(byObject(runs[0]!.transitions));
    expect(byObject(runs[2]!.transitions)).not.toEqual(byObject(runs[0]!.transitions));
  });

  it('generates the same steady flow of sessions, names included, for one seed', async () => {
    const flow = async (seed: number) => {
      const memory = new MemoryCluster();
      await memory.create('templates', 'flow', exampleTemplate());
      for (const [name, replicas] of [['beta', 3], ['gamma', 2]] as const) {
        await memory.create('pools', 'flow', pool(name, replicas));
      }
      const transitions: Recorded[] = [];
      let tick = 0;
      const sim = new FarmSimulator({ cluster: memory, namespace: 'flow', seed, speed: SPEED, tickMs: TICK_MS, sessionsPerMinute: 0.5, keepFinishedMs: 10 * 60_000, onTransition: (t) => transitions.push({ ...t, tick }) });
      for (tick = 1; tick <= 120; tick++) await sim.tick();
      await sim.stop();
      const left = (await memory.list('sessions', 'flow')).items;
      await memory.close();
      return { transitions, left };
    };
    const [a, b, c] = [await flow(SEED), await flow(SEED), await flow(SEED + 1)];
    const sessionsOf = (ts: Recorded[]) => [...new Set(ts.flatMap((t) => (t.kind === 'session' ? [t.session] : [])))];
    expect(sessionsOf(a.transitions).length).toBeGreaterThan(10);
    expect(byObject(b.transitions)).toEqual(byObject(a.transitions));
    expect(sessionsOf(c.transitions)).not.toEqual(sessionsOf(a.transitions));
    for (const name of sessionsOf(a.transitions)) expect(name).toMatch(/^(beta|gamma)-[a-z]+-[a-z0-9]{5}$/);
    // Finished sessions the simulator made are cleaned up after keepFinishedMs; the rest stay.
    expect(a.left.length).toBeGreaterThan(0);
    expect(a.left.length).toBeLessThan(sessionsOf(a.transitions).length);
    for (const s of a.left) expect(s.metadata.labels).toMatchObject({ 'droidfarm.io/simulated': 'true' });
  });
});

describe('farm simulator restarted mid-run', () => {
  it('ends sessions it cannot resume as Failed (RunnerLost) and gives their devices back', async () => {
    const ns = await freshNamespace('sim-restart');
    const cluster = new KubeCluster(loadKubeConfig({ kubeconfig: clusterInfo().adminKubeconfig }));
    try {
      await cluster.create('templates', ns, exampleTemplate());
      await cluster.create('pools', ns, pool('alpha', 1));
      await cluster.create('sessions', ns, session('r1-long', { runner: runner('regression') }));
      await cluster.create('sessions', ns, session('r2-next', { runner: runner('smoke') }));
      const phases = new Map<string, string>();
      const make = () =>
        new FarmSimulator({ cluster, namespace: ns, seed: SEED, speed: SPEED, tickMs: TICK_MS, onTransition: (t) => t.kind === 'session' && phases.set(t.session, t.phase) });
      const first = make();
      for (let i = 0; i < 50 && phases.get('r1-long') !== 'Running'; i++) await first.tick();
      expect(phases.get('r1-long')).toBe('Running');
      await first.stop();

      const second = make();
      await second.tick();
      const r1 = (await cluster.get('sessions', ns, 'r1-long')).status as Json;
      expect(r1).toMatchObject({ phase: 'Failed', reason: 'RunnerLost', device: { name: 'alpha-0' } });
      expect(Date.parse(r1.completionTime)).not.toBeNaN();
      // The device is free again and serves the next session.
      for (let i = 0; i < 50 && !FINAL.has(phases.get('r2-next') ?? ''); i++) await second.tick();
      await second.stop();
      const r2 = (await cluster.get('sessions', ns, 'r2-next')).status as Json;
      expect(['Succeeded', 'Failed']).toContain(r2.phase);
      expect(r2.device.name).toBe('alpha-0');
      const alpha = (await cluster.get('pools', ns, 'alpha')).status as Json;
      expect(alpha.devices).toEqual([expect.objectContaining({ name: 'alpha-0', state: 'Idle' })]);
    } finally {
      await cluster.close();
    }
  });
});
