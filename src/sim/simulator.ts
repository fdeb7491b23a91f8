// The farm simulator plays the DroidFarm operator through the Cluster interface, so it
// drives the embedded demo's in-memory cluster and a real API server alike. Each tick it
// reads the pools' and sessions' specs, advances its model in simulated time (scaled by
// --speed) and writes status through the status subresource, plus Kubernetes Events for
// the notable transitions. The model is the source of truth for status: it never waits
// for its own writes to come back. The model itself is pure step functions:
// device-model.ts, session-model.ts, pool-status.ts (what is written) and workload.ts (the
// demo's flow of new sessions); this file reads, calls them, and writes what they say.
import type { Cluster, KubeObject } from '../kube/types.js';
import { FINISHED_PHASES, type DeviceState, type SessionPhase } from '../farm/types.js';
import type { ArtifactFacts } from './artifacts.js';
import { advanceDevice, assignDevice, MEAN_TIME_BETWEEN_FAILURES_MS, newDevice, releaseDevice, restartDevice, type SimDevice } from './device-model.js';
import { poolStatus } from './pool-status.js';
import { between, streamFor, type Random } from './random.js';
import { adoptSession, advanceSession, assign, finish, waiting, type Artifacts, type SessionStep, type SimSession, type Stamp } from './session-model.js';
import { simulatedSession, startsSession } from './workload.js';

export interface SimulatorOptions {
  cluster: Cluster;
  /** Only this namespace; undefined: every namespace the credentials can list. */
  namespace?: string | undefined;
  seed?: number;
  /** Simulated seconds per real second. */
  speed?: number;
  /** Real milliseconds between ticks. */
  tickMs?: number;
  /** Base of device stream pages and Appium endpoints; the device path is appended. */
  streamBaseURL?: string;
  appiumBaseURL?: string;
  artifactBaseURL?: string;
  /** Size of an artifact file whose bytes exist (the demo serves its own); default: a made-up size. */
  artifactSize?: (file: string, facts: ArtifactFacts) => number | undefined;
  /** New sessions per pool per simulated minute (the demo's steady flow); 0: none. */
  sessionsPerMinute?: number;
  /** Devices of pools seen at start-up are already booted (the demo starts warm). */
  warmStart?: boolean;
  /**
   * Keep a pod object per device (status.devices[].podName) and treat its deletion as a
   * restart, as the pool's StatefulSet would: the in-memory demo, where no kubelet runs.
   */
  devicePods?: boolean;
  /** Finished sessions the simulator itself created are deleted after this (simulated). */
  keepFinishedMs?: number;
  /** Where runner logs go, when the cluster has no kubelet of its own (the in-memory demo). */
  podLogs?: PodLogWriter;
  /** Called for every state transition (tests record sequences). */
  onTransition?: (t: Transition) => void;
  log?: { warn(obj: object, msg: string): void };
}

export interface PodLogWriter {
  appendPodLog(namespace: string, pod: string, line: string): void;
  endPodLog(namespace: string, pod: string): void;
  deletePodLog(namespace: string, pod: string): void;
}

export type Transition =
  | { kind: 'device'; namespace: string; pool: string; device: string; state: DeviceState }
  | { kind: 'session'; namespace: string; session: string; phase: SessionPhase };

/** A pool as the simulator plays it: its devices, and what it last wrote. */
interface SimPool {
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
  dirty: boolean;
  lastHeartbeat: number;
  generator: Random;
  /** The Ready condition as last written, so lastTransitionTime moves only when it flips. */
  ready: { status: 'True' | 'False'; since: string } | undefined;
}

/** A session as the simulator plays it: the model, its random stream, its uid. */
interface Played {
  model: SimSession;
  random: Random;
}

const HEARTBEAT_MS = 15_000;
const COMPONENT = 'droidfarm-simulator';

export class FarmSimulator {
  private readonly pools = new Map<string, SimPool>();
  private readonly sessions = new Map<string, Played>();
  private readonly cluster: Cluster;
  private readonly seed: number;
  private readonly speed: number;
  private readonly tickMs: number;
  private simNow = 0;
  private ticks = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private firstTick = true;
  private nextSeq = 0;
  /** The tick in progress, so stop() can wait for it. */
  private current: Promise<void> | undefined;
  /** Events recorded during the tick in progress; the tick waits for them before it ends. */
  private pendingEvents: Array<Promise<void>> = [];

  constructor(private readonly options: SimulatorOptions) {
    this.cluster = options.cluster;
    this.seed = options.seed ?? 1;
    this.speed = options.speed ?? 1;
    this.tickMs = options.tickMs ?? 500;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = async () => {
      if (!this.running) return;
      this.current = this.tick().catch((err: unknown) => {
        this.options.log?.warn({ err }, 'simulator tick failed; trying again next tick');
      });
      await this.current;
      this.current = undefined;
      if (this.running) this.timer = setTimeout(loop, this.tickMs);
    };
    void loop();
  }

  /** Stops ticking; resolves once the tick in progress (if any) has finished its writes. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.current;
  }

  /** One step: read specs, advance the model by one tick of simulated time, write status. */
  async tick(): Promise<void> {
    this.ticks++;
    this.simNow += this.tickMs * this.speed;
    try {
      await this.readPools();
      await this.readSessions();
      await this.syncDevicePods();
      this.advanceDevices();
      this.advanceSessions();
      await this.generateSessions();
      await this.writeStatus();
      await this.forgetOldSessions();
      this.firstTick = false;
    } finally {
      // Events are sent concurrently, but a tick ends only once they are recorded.
      const events = this.pendingEvents;
      this.pendingEvents = [];
      await Promise.all(events);
    }
  }

  // ---- reading the specs ----

  private async readPools(): Promise<void> {
    const { items } = await this.cluster.list('pools', this.options.namespace);
    const seen = new Set<string>();
    for (const o of items) {
      const k = keyOf(o);
      seen.add(k);
      const spec = (o.spec ?? {}) as { replicas?: number };
      let pool = this.pools.get(k);
      if (!pool) {
        pool = this.adoptPool(o);
        this.pools.set(k, pool);
      }
      pool.replicas = spec.replicas ?? 1;
      if (pool.generation !== (o.metadata.generation ?? 1)) {
        pool.generation = o.metadata.generation ?? 1;
        pool.dirty = true;
      }
      this.scale(pool);
    }
    for (const k of [...this.pools.keys()]) if (!seen.has(k)) this.pools.delete(k);
  }

  private adoptPool(o: KubeObject): SimPool {
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
      lastHeartbeat: this.simNow,
      generator: streamFor(this.seed, namespace, name, 'sessions'),
      ready: undefined,
    };
    // Continue from what an earlier simulator (or operator) reported.
    const reported = (o.status as { devices?: Array<{ name: string; state: DeviceState; session?: string }> } | undefined)?.devices ?? [];
    for (const d of reported) {
      const device = this.newDevice(pool, d.name, true);
      pool.devices.push({ ...device, state: d.state === 'Busy' ? 'Idle' : d.state });
      const index = Number(d.name.split('-').pop());
      if (Number.isInteger(index)) pool.nextIndex = Math.max(pool.nextIndex, index + 1);
    }
    return pool;
  }

  private newDevice(pool: SimPool, name: string, warm: boolean): SimDevice {
    const random = streamFor(this.seed, pool.namespace, pool.name, name);
    pool.randoms.set(name, random);
    return newDevice(name, this.simNow, random, warm || (this.firstTick && this.options.warmStart === true));
  }

  /** Keeps the device list in line with spec.replicas: add Booting devices, remove spare ones. */
  private scale(pool: SimPool): void {
    while (pool.devices.length < pool.replicas) {
      const device = this.newDevice(pool, `${pool.name}-${pool.nextIndex++}`, false);
      pool.devices.push(device);
      this.transition(pool, device);
    }
    while (pool.devices.length > pool.replicas) {
      // Remove the newest device that is not running a session; busy ones finish first.
      const index = findLastIndex(pool.devices, (d) => d.state !== 'Busy');
      if (index < 0) break;
      pool.randoms.delete(pool.devices[index]!.name);
      pool.devices.splice(index, 1);
      pool.dirty = true;
    }
  }

  private async readSessions(): Promise<void> {
    const { items } = await this.cluster.list('sessions', this.options.namespace);
    const seen = new Set<string>();
    // Sessions seen for the first time are queued by creationTimestamp, then name; those
    // seen in an earlier tick stay ahead of them (creationTimestamp has 1 s resolution, so
    // it cannot order sessions created within one second on its own).
    const fresh = items
      .filter((o) => !this.sessions.has(keyOf(o)))
      .sort((a, b) => createdAtOf(a) - createdAtOf(b) || compareNames(a.metadata.name, b.metadata.name));
    const adopt = new Set(fresh.map(keyOf));
    for (const o of [...items.filter((i) => !adopt.has(keyOf(i))), ...fresh]) {
      const k = keyOf(o);
      seen.add(k);
      const spec = (o.spec ?? {}) as { poolRef?: { name?: string }; deviceName?: string; timeoutSeconds?: number; runner?: unknown; cancelRequested?: boolean };
      let played = this.sessions.get(k);
      if (!played) {
        const status = (o.status ?? {}) as { phase?: SessionPhase; progress?: { completed?: number; total?: number } };
        const phase = status.phase ?? 'Pending';
        if (FINISHED_PHASES.has(phase)) continue; // finished: not ours to touch
        const namespace = o.metadata.namespace!;
        const random = streamFor(this.seed, namespace, o.metadata.name);
        const facts = { pool: spec.poolRef?.name ?? '', deviceName: typeof spec.deviceName === 'string' ? spec.deviceName : '', timeoutSeconds: spec.timeoutSeconds, hasRunner: spec.runner !== undefined, ownedBySimulator: o.metadata.labels?.['droidfarm.io/simulated'] === 'true' };
        played = { model: adoptSession(namespace, o.metadata.name, facts, createdAtOf(o), this.nextSeq++, this.simNow, random), random };
        this.sessions.set(k, played);
        if (phase === 'Pending') {
          this.options.onTransition?.({ kind: 'session', namespace, session: played.model.name, phase: 'Pending' });
        } else {
          // Assigned or Running under an earlier simulator (or operator) whose runner is gone:
          // its device was already given back when the pool was adopted. End it plainly
          // instead of leaving it Running forever on a device that shows Idle.
          const total = status.progress?.total ?? played.model.total;
          played.model = { ...played.model, status: { ...(o.status as Record<string, unknown>) }, phase, total, completed: Math.min(status.progress?.completed ?? 0, total) };
          this.apply(played, finish(played.model, 'Failed', 'RunnerLost', `The operator restarted while the session was ${phase}; its runner was lost.`, this.simNow, random, this.stampFn, this.artifactsFn));
          continue;
        }
      }
      // Extend (a lease) raises spec.timeoutSeconds while the session runs.
      played.model = { ...played.model, cancelRequested: spec.cancelRequested === true, timeoutMs: (spec.timeoutSeconds ?? 1800) * 1000 };
    }
    for (const [k, p] of [...this.sessions]) {
      if (seen.has(k)) continue;
      // Deleted while running: give its device back.
      if (p.model.device) this.giveBack(p.model, p.model.device);
      this.sessions.delete(k);
    }
  }

  // ---- advancing the model ----

  /** devicePods: a device whose pod was deleted restarts (its session ends); every device gets its pod back. */
  private async syncDevicePods(): Promise<void> {
    if (!this.options.devicePods) return;
    const { items } = await this.cluster.list('pods', this.options.namespace);
    const have = new Set(items.map(keyOf));
    for (const pool of this.pools.values()) {
      for (const device of [...pool.devices]) {
        const pod = `${device.name}-cvd`;
        if (have.has(`${pool.namespace}/${pod}`)) {
          pool.podsSeen.add(device.name);
          continue;
        }
        if (pool.podsSeen.has(device.name)) {
          const played = device.session ? this.sessions.get(`${pool.namespace}/${device.session}`) : undefined;
          if (played) this.apply(played, finish(played.model, 'Failed', 'DeviceRestarted', `Device ${device.name} was restarted (its pod was deleted) while the session ran.`, this.simNow, played.random, this.stampFn, this.artifactsFn));
          const now = pool.devices.find((d) => d.name === device.name) ?? device;
          const restarted = restartDevice(now, this.simNow, pool.randoms.get(device.name)!);
          pool.devices = pool.devices.map((d) => (d.name === device.name ? restarted : d));
          this.transition(pool, restarted);
          this.event('DevicePool', pool, 'Normal', 'DeviceRestarted', `Device ${device.name}: pod ${pod} was deleted; the device restarts.`);
        }
        await this.cluster.create('pods', pool.namespace, { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, labels: { 'droidfarm.io/pool': pool.name } }, spec: {} });
        pool.podsSeen.add(device.name);
      }
    }
  }

  private advanceDevices(): void {
    const failureChance = (this.tickMs * this.speed) / MEAN_TIME_BETWEEN_FAILURES_MS;
    for (const pool of this.pools.values()) {
      pool.devices = pool.devices.map((before) => {
        const { device, change } = advanceDevice(before, this.simNow, pool.randoms.get(before.name)!, failureChance);
        if (!change) return device;
        this.transition(pool, device);
        if (change.kind === 'ready') this.event('DevicePool', pool, 'Normal', 'DeviceReady', `Device ${device.name} booted in ${Math.round(change.bootMs / 1000)}s`);
        if (change.kind === 'unhealthy') this.event('DevicePool', pool, 'Warning', 'DeviceUnhealthy', `Device ${device.name}: ${change.reason}`);
        return device;
      });
      if (this.simNow - pool.lastHeartbeat >= HEARTBEAT_MS) {
        pool.lastHeartbeat = this.simNow;
        pool.dirty = true;
      }
    }
  }

  private advanceSessions(): void {
    // Pending sessions are served in order of creation, per pool.
    const pending = [...this.sessions.values()].filter((p) => p.model.phase === 'Pending').sort((a, b) => a.model.seq - b.model.seq);
    for (const played of pending) {
      const session = played.model;
      if (session.cancelRequested) {
        this.apply(played, finish(session, 'Cancelled', 'CancelRequested', 'Stopped before a device was assigned.', this.simNow, played.random, this.stampFn, this.artifactsFn));
        continue;
      }
      const pool = this.pools.get(`${session.namespace}/${session.pool}`);
      if (!pool) {
        played.model = waiting(session, 'PoolNotFound', `DevicePool ${session.pool} does not exist in ${session.namespace}.`);
        continue;
      }
      const device = pool.devices.filter((d) => d.state === 'Idle' && (!session.deviceName || d.name === session.deviceName)).sort((a, b) => compareNames(a.name, b.name))[0];
      if (!device) {
        if (!session.deviceName) played.model = waiting(session, 'WaitingForDevice', `Waiting for an idle device in ${pool.name}.`);
        else if (pool.devices.some((d) => d.name === session.deviceName)) played.model = waiting(session, 'WaitingForDevice', `Waiting for device ${session.deviceName} to be idle.`);
        else played.model = waiting(session, 'DeviceNotFound', `Device ${session.deviceName} is not part of pool ${pool.name}.`);
        continue;
      }
      const busy = assignDevice(device, session.name);
      pool.devices = pool.devices.map((d) => (d === device ? busy : d));
      this.transition(pool, busy);
      this.apply(played, assign(session, { name: busy.name, streamURL: this.streamURL(pool.namespace, busy.name), appiumURL: this.appiumURL(pool.namespace, busy.name) }, this.simNow, this.stampFn));
      this.event('TestSession', session, 'Normal', 'DeviceAssigned', `Assigned to device ${busy.name} of pool ${pool.name}`);
    }
    for (const played of this.sessions.values()) {
      if (played.model.phase === 'Assigned' || played.model.phase === 'Running') {
        this.apply(played, advanceSession(played.model, this.simNow, played.random, this.stampFn, this.artifactsFn));
      }
    }
  }

  /** Takes a step's new state and tells what it did: transitions, log lines, Events, devices given back. */
  private apply(played: Played, { session, steps }: { session: SimSession; steps: SessionStep[] }): void {
    const before = played.model;
    played.model = session;
    for (const step of steps) {
      switch (step.kind) {
        case 'assigned':
          this.options.onTransition?.({ kind: 'session', namespace: session.namespace, session: session.name, phase: 'Assigned' });
          break;
        case 'started':
          this.options.onTransition?.({ kind: 'session', namespace: session.namespace, session: session.name, phase: 'Running' });
          this.event('TestSession', session, 'Normal', 'Started', `Test run started with ${session.total} tests`);
          this.log(session, `runner started: ${session.total} tests on ${before.device}`);
          break;
        case 'held':
          this.options.onTransition?.({ kind: 'session', namespace: session.namespace, session: session.name, phase: 'Running' });
          break;
        case 'test':
          this.log(session, `[${step.index}/${session.total}] ${step.test} ${step.passed ? 'PASSED' : 'FAILED'}`);
          break;
        case 'finished':
          this.options.onTransition?.({ kind: 'session', namespace: session.namespace, session: session.name, phase: step.phase });
          if (step.device) this.giveBack(session, step.device);
          this.log(session, `runner finished: ${step.phase} (${step.message})`);
          if (session.hasRunner) this.options.podLogs?.endPodLog(session.namespace, `${session.name}-runner`);
          this.event('TestSession', session, step.phase === 'Succeeded' ? 'Normal' : 'Warning', step.reason, step.message);
          break;
      }
    }
  }

  /** The session's device is free again (unless it already serves another). */
  private giveBack(session: SimSession, deviceName: string): void {
    const pool = this.pools.get(`${session.namespace}/${session.pool}`);
    const device = pool?.devices.find((d) => d.name === deviceName);
    if (!pool || !device || device.session !== session.name) return;
    const free = releaseDevice(device);
    pool.devices = pool.devices.map((d) => (d === device ? free : d));
    this.transition(pool, free);
  }

  private transition(pool: SimPool, device: SimDevice): void {
    pool.dirty = true;
    this.options.onTransition?.({ kind: 'device', namespace: pool.namespace, pool: pool.name, device: device.name, state: device.state });
  }

  // ---- the demo's steady flow of sessions ----

  private async generateSessions(): Promise<void> {
    const rate = this.options.sessionsPerMinute ?? 0;
    for (const pool of this.pools.values()) {
      if (!startsSession(pool.generator, rate, this.tickMs * this.speed)) continue;
      const planned = simulatedSession(pool.generator, pool.namespace, pool.name);
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await this.cluster.create('sessions', pool.namespace, planned.object(planned.nameFor()));
          break;
        } catch (err) {
          // The name is taken (an earlier run with the same seed): draw another.
          if ((err as { status?: number }).status === 409) continue;
          this.options.log?.warn({ err, pool: pool.name }, 'could not create a simulated session');
          break;
        }
      }
    }
  }

  private async forgetOldSessions(): Promise<void> {
    const keep = this.options.keepFinishedMs;
    for (const [k, { model: s }] of [...this.sessions]) {
      if (s.finishedAt === undefined || s.dirty) continue;
      if (keep !== undefined && s.ownedBySimulator && this.simNow - s.finishedAt > keep) {
        this.sessions.delete(k);
        await this.cluster.delete('sessions', s.namespace, s.name).catch((err: unknown) => {
          // Gone already (someone deleted it) is the expected failure; anything else is said.
          if ((err as { status?: number }).status !== 404) this.options.log?.warn({ err, session: `${s.namespace}/${s.name}` }, 'could not delete an old simulated session');
        });
        this.options.podLogs?.deletePodLog(s.namespace, `${s.name}-runner`);
      } else if (keep === undefined) {
        // Not ours to delete: stop tracking it once its final status is written.
        this.sessions.delete(k);
      }
    }
  }

  // ---- writing status ----

  private async writeStatus(): Promise<void> {
    const now = this.stamp();
    let failure: unknown;
    for (const pool of this.pools.values()) {
      if (!pool.dirty) continue;
      const { status, ready } = poolStatus(pool, now, (at) => this.stamp(at), { streamURL: (ns, d) => this.streamURL(ns, d), appiumURL: (ns, d) => this.appiumURL(ns, d) });
      const ok = await this.write(pool, 'pools', pool.namespace, pool.name, { status }).catch((err: unknown) => {
        failure ??= err;
        return false;
      });
      if (ok) pool.ready = ready;
    }
    for (const played of this.sessions.values()) {
      if (!played.model.dirty) continue;
      const clean = { dirty: true };
      await this.write(clean, 'sessions', played.model.namespace, played.model.name, { status: played.model.status }).catch((err: unknown) => {
        failure ??= err;
      });
      if (!clean.dirty) played.model = { ...played.model, dirty: false };
    }
    // A failed write leaves the object dirty, so the next tick writes it again.
    if (failure !== undefined) throw failure;
  }

  /** Writes status; the object is clean afterwards. False when it was deleted meanwhile. */
  private async write(target: { dirty: boolean }, resource: 'pools' | 'sessions', namespace: string, name: string, patch: Record<string, unknown>): Promise<boolean> {
    try {
      await this.cluster.patch(resource, namespace, name, patch, { subresource: 'status' });
      target.dirty = false;
      return true;
    } catch (err) {
      // Deleted meanwhile: the next read forgets it.
      if ((err as { status?: number }).status !== 404) throw err;
      target.dirty = false;
      return false;
    }
  }

  /** Records a Kubernetes Event; sent at once, awaited by the end of the tick. */
  private event(kind: 'DevicePool' | 'TestSession', about: { namespace: string; name: string }, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.pendingEvents.push(this.recordEvent(kind, about, type, reason, message));
  }

  private async recordEvent(kind: 'DevicePool' | 'TestSession', about: { namespace: string; name: string }, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      await this.cluster.create('events', about.namespace, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${about.name}.`, namespace: about.namespace },
        involvedObject: { apiVersion: 'droidfarm.io/v1alpha1', kind, name: about.name, namespace: about.namespace },
        type,
        reason,
        message,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: COMPONENT,
      });
    } catch (err) {
      this.options.log?.warn({ err, reason }, 'could not record an event');
    }
  }

  private log(session: SimSession, line: string): void {
    if (session.hasRunner) this.options.podLogs?.appendPodLog(session.namespace, `${session.name}-runner`, `${new Date().toISOString()} ${line}`);
  }

  private readonly artifactsFn: Artifacts = (session, phase, results, random) => {
    const base = `${this.options.artifactBaseURL ?? 'https://artifacts.droidfarm.example'}/${encodeURIComponent(session.namespace)}/${encodeURIComponent(session.name)}`;
    const facts: ArtifactFacts = { namespace: session.namespace, session: session.name, phase, results };
    const artifact = (name: string, kind: string, madeUpSize: number) => ({ name, kind, url: `${base}/${name}`, sizeBytes: this.options.artifactSize?.(name, facts) ?? madeUpSize });
    const list: Array<Record<string, unknown>> = [artifact('screen-recording.mp4', 'video', between(random, 8, 60) * 1_048_576), artifact('logcat.txt', 'logcat', between(random, 200, 2_000) * 1024)];
    if (phase === 'Succeeded' || phase === 'Failed') list.push(artifact('junit.xml', 'junit', between(random, 8, 90) * 1024));
    if (phase === 'Failed') list.push(artifact('failure.png', 'screenshot', between(random, 80, 400) * 1024));
    return list;
  };

  private streamURL(namespace: string, device: string): string {
    return `${this.options.streamBaseURL ?? 'https://streams.droidfarm.example'}/${encodeURIComponent(namespace)}/${encodeURIComponent(device)}`;
  }

  private appiumURL(namespace: string, device: string): string {
    return `${this.options.appiumBaseURL ?? 'https://appium.droidfarm.example'}/${encodeURIComponent(namespace)}/${encodeURIComponent(device)}/wd/hub`;
  }

  private readonly stampFn: Stamp = (simAt) => this.stamp(simAt);

  /** Wall-clock timestamps: what a person reads on the page. `simAt` maps simulated time back. */
  private stamp(simAt?: number): string {
    const wall = simAt === undefined ? Date.now() : Date.now() - (this.simNow - simAt) / this.speed;
    return new Date(wall).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}

function createdAtOf(o: KubeObject): number {
  return Date.parse(o.metadata.creationTimestamp ?? '') || 0;
}

/** Plain code-unit order: the same everywhere, unlike localeCompare. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return i;
  return -1;
}
