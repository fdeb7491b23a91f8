// The farm simulator plays the DroidFarm operator through the Cluster interface, so it
// drives the embedded demo's in-memory cluster and a real API server alike. Each tick it
// advances its model by one tick of simulated time (scaled by --speed) and writes status
// through the status subresource, plus Kubernetes Events for the notable transitions. The
// model is the source of truth for status: it never reads back what it wrote.
//
// One idea per file: this one is the tick and what a step tells (transitions, Events, log
// lines). It reads the cluster through the project's informer (farm-watch.ts, which also
// keeps ticks deterministic), follows pools and sessions (pools.ts, sessions.ts), steps the
// pure models (device-model.ts, session-model.ts), makes the demo's flow of sessions
// (session-flow.ts), and writes status (status-writer.ts, pool-status.ts) and Events (events.ts).
import type { Cluster, KubeObject } from '../kube/types.js';
import type { DeviceState, SessionPhase } from '../farm/types.js';
import type { ArtifactFacts } from './artifacts.js';
import { advanceDevice, assignDevice, MEAN_TIME_BETWEEN_FAILURES_MS, releaseDevice, restartDevice, type SimDevice } from './device-model.js';
import { EventRecorder } from './events.js';
import { FarmLinks } from './farm-links.js';
import { codeUnitOrder, FarmWatch, type WatchedKind } from './farm-watch.js';
import { followPools, replaceDevice, type SimPool } from './pools.js';
import { forgetOldSessions, generateSessions } from './session-flow.js';
import { advanceSession, assign, finish, waiting, type SessionStep, type SimSession, type Stamp } from './session-model.js';
import { followSessions, type Played } from './sessions.js';
import { SimClock } from './sim-clock.js';
import { StatusWriter } from './status-writer.js';

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

const HEARTBEAT_MS = 15_000;

export class FarmSimulator {
  private readonly pools = new Map<string, SimPool>();
  private readonly sessions = new Map<string, Played>();
  private readonly cluster: Cluster;
  private readonly seed: number;
  private readonly tickMs: number;
  private readonly clock: SimClock;
  private readonly links: FarmLinks;
  private readonly watch: FarmWatch;
  private readonly events: EventRecorder;
  private readonly writer: StatusWriter;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private firstTick = true;
  private nextSeq = 0;
  /** The tick in progress, so stop() can wait for it. */
  private current: Promise<void> | undefined;

  constructor(private readonly options: SimulatorOptions) {
    this.cluster = options.cluster;
    this.seed = options.seed ?? 1;
    this.tickMs = options.tickMs ?? 500;
    this.clock = new SimClock(options.speed ?? 1);
    this.links = new FarmLinks(options);
    const kinds: WatchedKind[] = options.devicePods ? ['pools', 'sessions', 'pods'] : ['pools', 'sessions'];
    this.watch = new FarmWatch({ cluster: this.cluster, namespace: options.namespace, kinds, log: options.log });
    this.events = new EventRecorder(this.cluster, options.log);
    this.writer = new StatusWriter(this.cluster, this.clock, this.links, (resource, written) => this.watch.expectWrite(resource, written));
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

  /** Stops ticking and watching; resolves once the tick in progress (if any) has finished its writes. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.watch.stop();
    await this.current;
  }

  /**
   * A write by someone else that the next tick must see, for a caller that steps ticks in
   * lockstep (tests): the tick waits until the watch has caught up with it, as a list
   * would have. Without it a watch shows the write soon, but maybe a tick later.
   */
  expectWrite(resource: WatchedKind, written: KubeObject): void {
    this.watch.expectWrite(resource, written);
  }

  /** One step: read specs, advance the model by one tick of simulated time, write status. */
  async tick(): Promise<void> {
    const step = this.clock.advance(this.tickMs);
    try {
      await this.watch.caughtUp();
      const play = { seed: this.seed, now: this.clock.now };
      followPools(this.pools, this.watch.objects('pools'), { ...play, warm: this.firstTick && this.options.warmStart === true, transition: (pool, device) => this.transition(pool, device) });
      followSessions(this.sessions, this.watch.objects('sessions'), {
        ...play,
        nextSeq: () => this.nextSeq++,
        queued: (p) => this.options.onTransition?.({ kind: 'session', namespace: p.model.namespace, session: p.model.name, phase: 'Pending' }),
        lost: (p, phase) => this.end(p, 'Failed', 'RunnerLost', `The operator restarted while the session was ${phase}; its runner was lost.`),
        gone: (p, device) => this.giveBack(p.model, device),
      });
      await this.syncDevicePods();
      this.advanceDevices(step);
      this.advanceSessions();
      const flow = { cluster: this.cluster, now: this.clock.now, log: this.options.log, created: (o: KubeObject) => this.watch.expectWrite('sessions', o) };
      await generateSessions(this.pools.values(), this.options.sessionsPerMinute ?? 0, step, flow);
      await this.writer.write(this.pools.values(), this.sessions.values());
      await forgetOldSessions(this.sessions, this.options.keepFinishedMs, { ...flow, podLogs: this.options.podLogs });
      this.firstTick = false;
    } finally {
      // Events are sent concurrently, but a tick ends only once they are recorded.
      await this.events.flush();
    }
  }

  /** devicePods: a device whose pod was deleted restarts (its session ends); every device gets its pod back. */
  private async syncDevicePods(): Promise<void> {
    if (!this.options.devicePods) return;
    const have = new Set(this.watch.objects('pods').map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
    for (const pool of this.pools.values()) {
      for (const device of [...pool.devices]) {
        const pod = `${device.name}-cvd`;
        if (have.has(`${pool.namespace}/${pod}`)) {
          pool.podsSeen.add(device.name);
          continue;
        }
        if (pool.podsSeen.has(device.name)) {
          const played = device.session ? this.sessions.get(`${pool.namespace}/${device.session}`) : undefined;
          if (played) this.end(played, 'Failed', 'DeviceRestarted', `Device ${device.name} was restarted (its pod was deleted) while the session ran.`);
          const now = pool.devices.find((d) => d.name === device.name) ?? device;
          const restarted = restartDevice(now, this.clock.now, pool.randoms.get(device.name)!);
          replaceDevice(pool, device.name, restarted);
          this.transition(pool, restarted);
          this.events.record('DevicePool', pool, 'Normal', 'DeviceRestarted', `Device ${device.name}: pod ${pod} was deleted; the device restarts.`);
        }
        const created = await this.cluster.create('pods', pool.namespace, { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, labels: { 'droidfarm.io/pool': pool.name } }, spec: {} });
        this.watch.expectWrite('pods', created);
        pool.podsSeen.add(device.name);
      }
    }
  }

  private advanceDevices(step: number): void {
    const failureChance = step / MEAN_TIME_BETWEEN_FAILURES_MS;
    for (const pool of this.pools.values()) {
      pool.devices = pool.devices.map((before) => {
        const { device, change } = advanceDevice(before, this.clock.now, pool.randoms.get(before.name)!, failureChance);
        if (!change) return device;
        this.transition(pool, device);
        if (change.kind === 'ready') this.events.record('DevicePool', pool, 'Normal', 'DeviceReady', `Device ${device.name} booted in ${Math.round(change.bootMs / 1000)}s`);
        if (change.kind === 'unhealthy') this.events.record('DevicePool', pool, 'Warning', 'DeviceUnhealthy', `Device ${device.name}: ${change.reason}`);
        return device;
      });
      if (this.clock.now - pool.lastHeartbeat >= HEARTBEAT_MS) {
        pool.lastHeartbeat = this.clock.now;
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
        this.end(played, 'Cancelled', 'CancelRequested', 'Stopped before a device was assigned.');
        continue;
      }
      const pool = this.pools.get(`${session.namespace}/${session.pool}`);
      if (!pool) {
        played.model = waiting(session, 'PoolNotFound', `DevicePool ${session.pool} does not exist in ${session.namespace}.`);
        continue;
      }
      const device = pool.devices.filter((d) => d.state === 'Idle' && (!session.deviceName || d.name === session.deviceName)).sort((a, b) => codeUnitOrder(a.name, b.name))[0];
      if (!device) {
        if (!session.deviceName) played.model = waiting(session, 'WaitingForDevice', `Waiting for an idle device in ${pool.name}.`);
        else if (pool.devices.some((d) => d.name === session.deviceName)) played.model = waiting(session, 'WaitingForDevice', `Waiting for device ${session.deviceName} to be idle.`);
        else played.model = waiting(session, 'DeviceNotFound', `Device ${session.deviceName} is not part of pool ${pool.name}.`);
        continue;
      }
      const busy = assignDevice(device, session.name);
      replaceDevice(pool, device.name, busy);
      this.transition(pool, busy);
      this.apply(played, assign(session, { name: busy.name, streamURL: this.links.streamURL(pool.namespace, busy.name), appiumURL: this.links.appiumURL(pool.namespace, busy.name) }, this.clock.now, this.stamp));
      this.events.record('TestSession', session, 'Normal', 'DeviceAssigned', `Assigned to device ${busy.name} of pool ${pool.name}`);
    }
    for (const played of this.sessions.values()) {
      if (played.model.phase === 'Assigned' || played.model.phase === 'Running') {
        this.apply(played, advanceSession(played.model, this.clock.now, played.random, this.stamp, this.links.artifacts));
      }
    }
  }

  /** Ends a session now. */
  private end(played: Played, phase: SessionPhase, reason: string, message: string): void {
    this.apply(played, finish(played.model, phase, reason, message, this.clock.now, played.random, this.stamp, this.links.artifacts));
  }

  /** Takes a step's new state and tells what it did: transitions, log lines, Events, devices given back. */
  private apply(played: Played, { session, steps }: { session: SimSession; steps: SessionStep[] }): void {
    const before = played.model;
    played.model = session;
    const tell = (phase: SessionPhase) => this.options.onTransition?.({ kind: 'session', namespace: session.namespace, session: session.name, phase });
    for (const step of steps) {
      switch (step.kind) {
        case 'assigned':
          tell('Assigned');
          break;
        case 'started':
          tell('Running');
          this.events.record('TestSession', session, 'Normal', 'Started', `Test run started with ${session.total} tests`);
          this.log(session, `runner started: ${session.total} tests on ${before.device}`);
          break;
        case 'held':
          tell('Running');
          break;
        case 'test':
          this.log(session, `[${step.index}/${session.total}] ${step.test} ${step.passed ? 'PASSED' : 'FAILED'}`);
          break;
        case 'finished':
          tell(step.phase);
          if (step.device) this.giveBack(session, step.device);
          this.log(session, `runner finished: ${step.phase} (${step.message})`);
          if (session.hasRunner) this.options.podLogs?.endPodLog(session.namespace, `${session.name}-runner`);
          this.events.record('TestSession', session, step.phase === 'Succeeded' ? 'Normal' : 'Warning', step.reason, step.message);
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
    replaceDevice(pool, device.name, free);
    this.transition(pool, free);
  }

  private transition(pool: SimPool, device: SimDevice): void {
    pool.dirty = true;
    this.options.onTransition?.({ kind: 'device', namespace: pool.namespace, pool: pool.name, device: device.name, state: device.state });
  }

  private log(session: SimSession, line: string): void {
    if (session.hasRunner) this.options.podLogs?.appendPodLog(session.namespace, `${session.name}-runner`, `${new Date().toISOString()} ${line}`);
  }

  private readonly stamp: Stamp = (simAt) => this.clock.stamp(simAt);
}
