// The farm simulator plays the DroidFarm operator through the Cluster interface, so it
// drives the embedded demo's in-memory cluster and a real API server alike. Each tick it
// reads the pools' and sessions' specs, advances its model in simulated time (scaled by
// --speed) and writes status through the status subresource, plus Kubernetes Events for
// the notable transitions. The model is the source of truth for status: it never waits
// for its own writes to come back.
import type { Cluster, KubeObject } from '../kube/types.js';
import { FINISHED_PHASES, type DeviceState, type SessionPhase } from '../farm/types.js';
import type { ArtifactFacts } from './artifacts.js';
import { between, logNormal, streamFor, type Random } from './random.js';

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

interface SimDevice {
  name: string;
  state: DeviceState;
  random: Random;
  bootStartedAt: number;
  readyAt: number | undefined;
  /** Simulated time at which the current state ends (boot done, recovery). */
  until: number;
  session: string;
  message: string;
  /** devicePods: its pod has been created (so its absence now means it was deleted). */
  podSeen?: boolean;
}

interface SimPool {
  namespace: string;
  name: string;
  replicas: number;
  generation: number;
  devices: SimDevice[];
  nextIndex: number;
  dirty: boolean;
  lastHeartbeat: number;
  generator: Random;
  /** The Ready condition as last written, so lastTransitionTime moves only when it flips. */
  ready: { status: 'True' | 'False'; since: string } | undefined;
}

interface SimSession {
  namespace: string;
  name: string;
  uid: string;
  pool: string;
  createdAt: number;
  /** Order in which the simulator first saw the session: ties of createdAt (1 s resolution) break on it. */
  seq: number;
  timeoutMs: number;
  hasRunner: boolean;
  /** spec.deviceName: only this device of the pool may take the session ('' for any). */
  deviceName: string;
  cancelRequested: boolean;
  phase: SessionPhase;
  random: Random;
  device: SimDevice | undefined;
  phaseSince: number;
  assignedAt: number | undefined;
  startedAt: number | undefined;
  total: number;
  completed: number;
  failedTests: number;
  skippedTests: number;
  /** Simulated time per test. */
  paceMs: number;
  ownedBySimulator: boolean;
  finishedAt: number | undefined;
  dirty: boolean;
  status: Record<string, unknown>;
}

const BOOT_MEAN_MS = 35_000;
const ASSIGN_TO_RUN_MS = 2_000;
const HEARTBEAT_MS = 15_000;
const RECOVERY_MS = 20_000;
/** An idle device turns unhealthy about once per this much simulated time. */
const MEAN_TIME_BETWEEN_FAILURES_MS = 40 * 60_000;
const COMPONENT = 'droidfarm-simulator';

export class FarmSimulator {
  private readonly pools = new Map<string, SimPool>();
  private readonly sessions = new Map<string, SimSession>();
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
      nextIndex: 0,
      dirty: true,
      lastHeartbeat: this.simNow,
      generator: streamFor(this.seed, namespace, name, 'sessions'),
      ready: undefined,
    };
    // Continue from what an earlier simulator (or operator) reported.
    const reported = ((o.status as { devices?: Array<{ name: string; state: DeviceState; session?: string }> } | undefined)?.devices ?? []);
    for (const d of reported) {
      const device = this.newDevice(pool, d.name, true);
      device.state = d.state === 'Busy' ? 'Idle' : d.state;
      pool.devices.push(device);
      const index = Number(d.name.split('-').pop());
      if (Number.isInteger(index)) pool.nextIndex = Math.max(pool.nextIndex, index + 1);
    }
    return pool;
  }

  private newDevice(pool: SimPool, name: string, warm: boolean): SimDevice {
    const random = streamFor(this.seed, pool.namespace, pool.name, name);
    const bootMs = logNormal(random, BOOT_MEAN_MS);
    const isWarm = warm || (this.firstTick && this.options.warmStart === true);
    return {
      name,
      state: isWarm ? 'Idle' : 'Booting',
      random,
      bootStartedAt: this.simNow - (isWarm ? bootMs : 0),
      readyAt: isWarm ? this.simNow : undefined,
      until: isWarm ? 0 : this.simNow + bootMs,
      session: '',
      message: '',
    };
  }

  /** Keeps the device list in line with spec.replicas: add Booting devices, remove spare ones. */
  private scale(pool: SimPool): void {
    while (pool.devices.length < pool.replicas) {
      const name = `${pool.name}-${pool.nextIndex++}`;
      const device = this.newDevice(pool, name, false);
      pool.devices.push(device);
      this.transition(pool, device);
      pool.dirty = true;
    }
    while (pool.devices.length > pool.replicas) {
      // Remove the newest device that is not running a session; busy ones finish first.
      const index = findLastIndex(pool.devices, (d) => d.state !== 'Busy');
      if (index < 0) break;
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
      let session = this.sessions.get(k);
      if (!session) {
        const status = (o.status ?? {}) as { phase?: SessionPhase; progress?: { completed?: number; total?: number } };
        const phase = status.phase ?? 'Pending';
        if (FINISHED_PHASES.has(phase)) continue; // finished: not ours to touch
        session = this.adoptSession(o, spec);
        this.sessions.set(k, session);
        if (phase === 'Pending') {
          this.options.onTransition?.({ kind: 'session', namespace: session.namespace, session: session.name, phase: 'Pending' });
        } else {
          // Assigned or Running under an earlier simulator (or operator) whose runner is gone:
          // its device was already given back when the pool was adopted. End it plainly
          // instead of leaving it Running forever on a device that shows Idle.
          session.status = { ...(o.status as Record<string, unknown>) };
          session.phase = phase;
          session.total = status.progress?.total ?? session.total;
          session.completed = Math.min(status.progress?.completed ?? 0, session.total);
          this.finish(session, 'Failed', 'RunnerLost', `The operator restarted while the session was ${phase}; its runner was lost.`);
          continue;
        }
      }
      session.cancelRequested = spec.cancelRequested === true;
      // Extend (a lease) raises spec.timeoutSeconds while the session runs.
      session.timeoutMs = (spec.timeoutSeconds ?? 1800) * 1000;
    }
    for (const [k, s] of [...this.sessions]) {
      if (seen.has(k)) continue;
      // Deleted while running: give its device back.
      if (s.device) this.releaseDevice(s);
      this.sessions.delete(k);
    }
  }

  private adoptSession(o: KubeObject, spec: { poolRef?: { name?: string }; deviceName?: string; timeoutSeconds?: number; runner?: unknown }): SimSession {
    const namespace = o.metadata.namespace!;
    const name = o.metadata.name;
    const random = streamFor(this.seed, namespace, name);
    const total = between(random, 12, 80);
    const willFail = random() < 0.18;
    return {
      namespace,
      name,
      uid: o.metadata.uid ?? '',
      pool: spec.poolRef?.name ?? '',
      createdAt: createdAtOf(o),
      seq: this.nextSeq++,
      timeoutMs: (spec.timeoutSeconds ?? 1800) * 1000,
      hasRunner: spec.runner !== undefined,
      deviceName: typeof spec.deviceName === 'string' ? spec.deviceName : '',
      cancelRequested: false,
      phase: 'Pending',
      random,
      device: undefined,
      phaseSince: this.simNow,
      assignedAt: undefined,
      startedAt: undefined,
      total,
      completed: 0,
      failedTests: willFail ? between(random, 1, 4) : 0,
      skippedTests: between(random, 0, 2),
      paceMs: logNormal(random, 2_500, 0.5),
      ownedBySimulator: o.metadata.labels?.['droidfarm.io/simulated'] === 'true',
      finishedAt: undefined,
      dirty: false,
      status: {},
    };
  }

  // ---- advancing the model ----

  /** devicePods: a device whose pod was deleted restarts (its session ends); every device gets its pod back. */
  private async syncDevicePods(): Promise<void> {
    if (!this.options.devicePods) return;
    const { items } = await this.cluster.list('pods', this.options.namespace);
    const have = new Set(items.map(keyOf));
    for (const pool of this.pools.values()) {
      for (const device of pool.devices) {
        const pod = `${device.name}-cvd`;
        if (have.has(`${pool.namespace}/${pod}`)) {
          device.podSeen = true;
          continue;
        }
        if (device.podSeen) {
          const session = device.session ? this.sessions.get(`${pool.namespace}/${device.session}`) : undefined;
          if (session) this.finish(session, 'Failed', 'DeviceRestarted', `Device ${device.name} was restarted (its pod was deleted) while the session ran.`);
          device.state = 'Booting';
          device.session = '';
          device.bootStartedAt = this.simNow;
          device.readyAt = undefined;
          device.until = this.simNow + logNormal(device.random, BOOT_MEAN_MS);
          device.message = 'restarting: its pod was deleted';
          this.transition(pool, device);
          this.event('DevicePool', pool, 'Normal', 'DeviceRestarted', `Device ${device.name}: pod ${pod} was deleted; the device restarts.`);
        }
        await this.cluster.create('pods', pool.namespace, { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, labels: { 'droidfarm.io/pool': pool.name } }, spec: {} });
        device.podSeen = true;
      }
    }
  }

  private advanceDevices(): void {
    const failureChance = (this.tickMs * this.speed) / MEAN_TIME_BETWEEN_FAILURES_MS;
    for (const pool of this.pools.values()) {
      for (const device of pool.devices) {
        if (device.state === 'Booting' && this.simNow >= device.until) {
          device.state = 'Idle';
          device.readyAt = this.simNow;
          device.message = '';
          this.transition(pool, device);
          this.event('DevicePool', pool, 'Normal', 'DeviceReady', `Device ${device.name} booted in ${Math.round((this.simNow - device.bootStartedAt) / 1000)}s`);
        } else if (device.state === 'Idle' && device.random() < failureChance) {
          device.state = 'Unhealthy';
          device.until = this.simNow + logNormal(device.random, RECOVERY_MS);
          device.message = pick(device.random, ['adb heartbeat lost', 'launcher not responding', 'boot animation stuck after restart', 'disk pressure on emulator overlay']);
          this.transition(pool, device);
          this.event('DevicePool', pool, 'Warning', 'DeviceUnhealthy', `Device ${device.name}: ${device.message}`);
        } else if (device.state === 'Unhealthy' && this.simNow >= device.until) {
          // Recovery is a reboot of the emulator.
          device.state = 'Booting';
          device.bootStartedAt = this.simNow;
          device.readyAt = undefined;
          device.until = this.simNow + logNormal(device.random, BOOT_MEAN_MS);
          device.message = 'restarting after health check failure';
          this.transition(pool, device);
        }
      }
      if (this.simNow - pool.lastHeartbeat >= HEARTBEAT_MS) {
        pool.lastHeartbeat = this.simNow;
        pool.dirty = true;
      }
    }
  }

  private advanceSessions(): void {
    // Pending sessions are served in order of creation, per pool.
    const pending = [...this.sessions.values()]
      .filter((s) => s.phase === 'Pending')
      .sort((a, b) => a.seq - b.seq);
    for (const session of pending) {
      if (session.cancelRequested) {
        this.finish(session, 'Cancelled', 'CancelRequested', 'Stopped before a device was assigned.');
        continue;
      }
      const pool = this.pools.get(`${session.namespace}/${session.pool}`);
      if (!pool) {
        this.setMessage(session, 'PoolNotFound', `DevicePool ${session.pool} does not exist in ${session.namespace}.`);
        continue;
      }
      const device = pool.devices.filter((d) => d.state === 'Idle' && (!session.deviceName || d.name === session.deviceName)).sort((a, b) => compareNames(a.name, b.name))[0];
      if (!device) {
        if (!session.deviceName) this.setMessage(session, 'WaitingForDevice', `Waiting for an idle device in ${pool.name}.`);
        else if (pool.devices.some((d) => d.name === session.deviceName)) this.setMessage(session, 'WaitingForDevice', `Waiting for device ${session.deviceName} to be idle.`);
        else this.setMessage(session, 'DeviceNotFound', `Device ${session.deviceName} is not part of pool ${pool.name}.`);
        continue;
      }
      device.state = 'Busy';
      device.session = session.name;
      session.device = device;
      pool.dirty = true;
      this.transition(pool, device);
      this.setPhase(session, 'Assigned', 'DeviceAssigned', `Assigned to ${device.name}.`);
      session.assignedAt = this.simNow;
      session.status.assignedAt = this.stamp();
      session.status.device = { name: device.name, streamURL: this.streamURL(pool, device), appiumURL: this.appiumURL(pool, device) };
      if (session.hasRunner) session.status.podName = `${session.name}-runner`;
      this.event('TestSession', session, 'Normal', 'DeviceAssigned', `Assigned to device ${device.name} of pool ${pool.name}`);
    }

    for (const session of this.sessions.values()) {
      if (session.phase === 'Assigned') {
        if (session.cancelRequested) this.finish(session, 'Cancelled', 'CancelRequested', 'Stopped by an operator.');
        else if (this.simNow - session.phaseSince >= ASSIGN_TO_RUN_MS && !session.hasRunner) {
          // A claim (a lease): the device is held, nothing runs on it.
          session.startedAt = this.simNow;
          this.setPhase(session, 'Running', 'Held', `Device ${session.device?.name} is held until Stop or the timeout.`);
          session.status.startTime = this.stamp();
        } else if (this.simNow - session.phaseSince >= ASSIGN_TO_RUN_MS) {
          session.startedAt = this.simNow;
          this.setPhase(session, 'Running', 'Running', `Running ${session.total} tests.`);
          session.status.startTime = this.stamp();
          session.status.progress = { completed: 0, total: session.total };
          this.event('TestSession', session, 'Normal', 'Started', `Test run started with ${session.total} tests`);
          this.log(session, `runner started: ${session.total} tests on ${session.device?.name}`);
        }
      } else if (session.phase === 'Running') {
        if (session.cancelRequested) {
          this.finish(session, 'Cancelled', 'CancelRequested', `Stopped by an operator after ${session.completed} of ${session.total} tests.`);
        } else if (this.simNow - (session.assignedAt ?? session.phaseSince) >= session.timeoutMs) {
          // spec.timeoutSeconds counts from the assignment (see the CRD).
          if (!session.hasRunner) this.finish(session, 'TimedOut', 'Timeout', `The device was held for ${session.timeoutMs / 1000}s, the session's timeout.`);
          else this.finish(session, 'TimedOut', 'Timeout', `Did not finish within ${session.timeoutMs / 1000}s (${session.completed} of ${session.total} tests done).`);
        } else if (!session.hasRunner) {
          // Held: nothing to advance until Stop or the timeout.
        } else {
          const due = Math.min(session.total, Math.floor((this.simNow - (session.startedAt ?? 0)) / session.paceMs));
          while (session.completed < due) {
            session.completed++;
            const failed = session.completed > session.total - session.failedTests;
            this.log(session, `[${session.completed}/${session.total}] ${testName(session.random)} ${failed ? 'FAILED' : 'PASSED'}`);
            session.dirty = true;
          }
          session.status.progress = { completed: session.completed, total: session.total };
          session.status.results = this.results(session, false);
          if (session.completed >= session.total) {
            const failed = session.failedTests > 0;
            this.finish(
              session,
              failed ? 'Failed' : 'Succeeded',
              failed ? 'TestsFailed' : 'AllTestsPassed',
              failed ? `${session.failedTests} of ${session.total} tests failed.` : `All ${session.total - session.skippedTests} tests passed.`,
            );
          }
        }
      }
    }
  }

  /**
   * Results of the tests run so far, matching the runner log: the failing tests are the last
   * ones of the run; skipped tests are only known from the final report of a complete run.
   */
  private results(session: SimSession, complete: boolean): { passed: number; failed: number; skipped: number } {
    const failed = Math.max(0, session.completed - (session.total - session.failedTests));
    const skipped = complete ? Math.min(session.skippedTests, session.completed - failed) : 0;
    return { passed: session.completed - failed - skipped, failed, skipped };
  }

  private finish(session: SimSession, phase: SessionPhase, reason: string, message: string): void {
    session.status.completionTime = this.stamp();
    // A claim ran no tests: no results, no artifacts.
    if (session.hasRunner) session.status.results = this.results(session, (phase === 'Succeeded' || phase === 'Failed') && session.completed >= session.total);
    if (session.hasRunner && session.startedAt !== undefined) session.status.artifacts = this.artifacts(session, phase);
    this.setPhase(session, phase, reason, message);
    session.finishedAt = this.simNow;
    if (session.device) this.releaseDevice(session);
    this.log(session, `runner finished: ${phase} (${message})`);
    if (session.hasRunner) this.options.podLogs?.endPodLog(session.namespace, `${session.name}-runner`);
    this.event('TestSession', session, phase === 'Succeeded' ? 'Normal' : 'Warning', reason, message);
  }

  private releaseDevice(session: SimSession): void {
    const device = session.device!;
    const pool = this.pools.get(`${session.namespace}/${session.pool}`);
    session.device = undefined;
    if (!pool || device.session !== session.name) return;
    device.session = '';
    if (device.state === 'Busy') device.state = 'Idle';
    pool.dirty = true;
    this.transition(pool, device);
  }

  private setPhase(session: SimSession, phase: SessionPhase, reason: string, message: string): void {
    session.phase = phase;
    session.phaseSince = this.simNow;
    session.status.phase = phase;
    session.status.reason = reason;
    session.status.message = message;
    session.dirty = true;
    this.options.onTransition?.({ kind: 'session', namespace: session.namespace, session: session.name, phase });
  }

  private setMessage(session: SimSession, reason: string, message: string): void {
    if (session.status.phase === 'Pending' && session.status.reason === reason && session.status.message === message) return;
    session.status.phase = 'Pending';
    session.status.reason = reason;
    session.status.message = message;
    session.dirty = true;
  }

  private transition(pool: SimPool, device: SimDevice): void {
    pool.dirty = true;
    this.options.onTransition?.({ kind: 'device', namespace: pool.namespace, pool: pool.name, device: device.name, state: device.state });
  }

  // ---- the demo's steady flow of sessions ----

  private async generateSessions(): Promise<void> {
    const rate = this.options.sessionsPerMinute ?? 0;
    if (rate <= 0) return;
    const chance = (rate * this.tickMs * this.speed) / 60_000;
    for (const pool of this.pools.values()) {
      if (pool.generator() >= chance) continue;
      const random = pool.generator;
      const suite = pick(random, ['smoke', 'login', 'checkout', 'onboarding', 'regression', 'payments', 'search']);
      const app = pick(random, ['com.example.shop', 'com.example.bank', 'com.example.maps']);
      const build = between(random, 100, 140);
      // Named here from the seeded stream, not by the server's generateName: a session's
      // story is seeded by its name, so server-chosen names would break determinism.
      for (let attempt = 0; attempt < 5; attempt++) {
        const name = `${pool.name}-${suite}-${nameSuffix(random)}`;
        try {
          await this.cluster.create('sessions', pool.namespace, {
            apiVersion: 'droidfarm.io/v1alpha1',
            kind: 'TestSession',
            metadata: { name, namespace: pool.namespace, labels: { 'droidfarm.io/simulated': 'true', 'droidfarm.io/suite': suite } },
            spec: {
              poolRef: { name: pool.name },
              timeoutSeconds: 900,
              apps: [{ packageName: app, apkURL: `https://artifacts.droidfarm.example/apks/${app}-${build}.apk` }],
              runner: { image: 'ghcr.io/droidfarm/espresso-runner:1.8', command: ['run-suite'], args: [`--suite=${suite}`], env: [{ name: 'APP_PACKAGE', value: app }] },
            },
          });
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
    for (const [k, s] of [...this.sessions]) {
      if (s.finishedAt === undefined || s.dirty) continue;
      if (keep !== undefined && s.ownedBySimulator && this.simNow - s.finishedAt > keep) {
        this.sessions.delete(k);
        await this.cluster.delete('sessions', s.namespace, s.name).catch(() => undefined);
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
      const counts = { booting: 0, idle: 0, busy: 0, unhealthy: 0 };
      for (const d of pool.devices) counts[d.state.toLowerCase() as keyof typeof counts]++;
      const ready = counts.booting === 0 && pool.devices.length === pool.replicas;
      const readyStatus = ready ? 'True' : 'False';
      const since = pool.ready?.status === readyStatus ? pool.ready.since : now;
      const missing = pool.replicas - pool.devices.length;
      const notReady = [
        counts.booting ? `${counts.booting} booting` : '',
        missing > 0 ? `${missing} to create` : '',
        missing < 0 ? `${-missing} to remove once their sessions end` : '',
      ].filter(Boolean);
      const ok = await this.write(pool, 'pools', pool.namespace, pool.name, {
        status: {
          observedGeneration: pool.generation,
          replicas: pool.devices.length,
          counts,
          devices: pool.devices.map((d) => ({
            name: d.name,
            state: d.state,
            podName: `${d.name}-cvd`,
            nodeName: `farm-node-${hashIndex(d.name, 4)}`,
            streamURL: this.streamURL(pool, d),
            appiumURL: this.appiumURL(pool, d),
            // Absent, not null: the array is replaced whole and the schema has no nullable fields.
            session: d.session || undefined,
            bootStartedAt: this.stamp(d.bootStartedAt),
            readyAt: d.readyAt === undefined ? undefined : this.stamp(d.readyAt),
            lastHeartbeatTime: now,
            message: d.message || undefined,
          })),
          conditions: [
            {
              type: 'Ready',
              status: readyStatus,
              reason: ready ? 'AllDevicesUp' : 'Scaling',
              message: ready ? `${pool.devices.length} devices up` : notReady.join(', '),
              lastTransitionTime: since,
              observedGeneration: pool.generation,
            },
          ],
        },
      }).catch((err: unknown) => {
        failure ??= err;
        return false;
      });
      if (ok) pool.ready = { status: readyStatus, since };
    }
    for (const session of this.sessions.values()) {
      if (!session.dirty) continue;
      await this.write(session, 'sessions', session.namespace, session.name, { status: session.status }).catch((err: unknown) => {
        failure ??= err;
      });
    }
    // A failed write leaves the object dirty, so the next tick writes it again.
    if (failure !== undefined) throw failure;
  }

  /** Writes status; the object is clean afterwards. False when it was deleted meanwhile. */
  private async write(
    target: { dirty: boolean },
    resource: 'pools' | 'sessions',
    namespace: string,
    name: string,
    patch: Record<string, unknown>,
  ): Promise<boolean> {
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

  private artifacts(session: SimSession, phase: SessionPhase): Array<Record<string, unknown>> {
    const base = `${this.options.artifactBaseURL ?? 'https://artifacts.droidfarm.example'}/${encodeURIComponent(session.namespace)}/${encodeURIComponent(session.name)}`;
    const facts: ArtifactFacts = { namespace: session.namespace, session: session.name, phase, results: session.status.results as ArtifactFacts['results'] };
    const artifact = (name: string, kind: string, madeUpSize: number) => ({ name, kind, url: `${base}/${name}`, sizeBytes: this.options.artifactSize?.(name, facts) ?? madeUpSize });
    const list: Array<Record<string, unknown>> = [
      artifact('screen-recording.mp4', 'video', between(session.random, 8, 60) * 1_048_576),
      artifact('logcat.txt', 'logcat', between(session.random, 200, 2_000) * 1024),
    ];
    if (phase === 'Succeeded' || phase === 'Failed') list.push(artifact('junit.xml', 'junit', between(session.random, 8, 90) * 1024));
    if (phase === 'Failed') list.push(artifact('failure.png', 'screenshot', between(session.random, 80, 400) * 1024));
    return list;
  }

  private streamURL(pool: SimPool, d: SimDevice): string {
    return `${this.options.streamBaseURL ?? 'https://streams.droidfarm.example'}/${encodeURIComponent(pool.namespace)}/${encodeURIComponent(d.name)}`;
  }

  private appiumURL(pool: SimPool, d: SimDevice): string {
    return `${this.options.appiumBaseURL ?? 'https://appium.droidfarm.example'}/${encodeURIComponent(pool.namespace)}/${encodeURIComponent(d.name)}/wd/hub`;
  }

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

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function nameSuffix(random: Random): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_CHARS[Math.floor(random() * NAME_CHARS.length)];
  return s;
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return i;
  return -1;
}

function hashIndex(text: string, buckets: number): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return h % buckets;
}

const TEST_CLASSES = ['LoginTest', 'CheckoutTest', 'SearchTest', 'SettingsTest', 'OnboardingTest', 'PaymentTest'];
const TEST_METHODS = ['opensScreen', 'acceptsValidInput', 'rejectsEmptyForm', 'survivesRotation', 'restoresState', 'showsOfflineBanner'];

function testName(random: Random): string {
  return `com.example.${pick(random, TEST_CLASSES)}#${pick(random, TEST_METHODS)}`;
}
