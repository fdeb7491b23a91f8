// Issue 3: the dashboard's store survives what a real API server does to its watches. While a
// writer keeps changing the farm (device states through the status subresource, sessions
// created, advanced and deleted, pools scaled, created and deleted), the apiserver restarts,
// or the dashboard is cut off while things are deleted and etcd is compacted, so that its
// watches come back to 410 Gone. Afterwards the store must hold exactly what the apiserver
// holds: the same slim view (src/kube/slim.ts) of every template, pool and session, uid and
// resourceVersion included, nothing more, and the per-pool session index must agree; the
// informers must show that they really lost their watches (restarts) and relisted after 410.
// These tests restart the apiserver and compact etcd: they belong to the "disruptive"
// project (vitest.config.ts), which has a control plane of its own and runs one file at a time.
import { readFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { CustomObjectsApi, loadAllYaml } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { PoolView, SessionView, TemplateView } from '../../src/farm/types.js';
import { MAX_LIMIT } from '../../src/farm/session-query.js';
import { ClusterError } from '../../src/kube/errors.js';
import type { InformerStatus } from '../../src/kube/informer.js';
import { KubeCluster } from '../../src/kube/kube-cluster.js';
import { toPoolView, toSessionView, toTemplateView } from '../../src/kube/slim.js';
import type { KubeObject, NewKubeObject } from '../../src/kube/types.js';
import { mulberry32, type Random } from '../../src/sim/random.js';
import { adminKubeConfig, clusterInfo, compactEtcd, freshNamespace, restartApiserver, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createExamplePools, examplePoolNames } from '../helpers/examples.js';

const root = path.join(import.meta.dirname, '..', '..');
const GROUP = { group: 'droidfarm.io', version: 'v1alpha1' } as const;
/** Quick retries, so the dashboard comes back within a second of the apiserver. */
const FAST_SYNC = { backoff: { initialMs: 50, maxMs: 500 } };
/** A restart takes a few seconds on a busy two-core machine, more while the writer runs. */
const DISRUPTION_TIMEOUT_MS = 180_000;

// ---------------------------------------------------------------------------------------
// The farm: example pools and sessions in a fresh namespace

/** Creates deploy/examples/testsessions.yaml in `namespace`, each with its status block. */
async function createExampleSessions(namespace: string): Promise<string[]> {
  const api = adminKubeConfig().makeApiClient(CustomObjectsApi);
  const docs = loadAllYaml(readFileSync(path.join(root, 'deploy/examples/testsessions.yaml'), 'utf8')) as Array<{
    metadata: { name: string };
    status?: unknown;
  }>;
  for (const doc of docs) {
    const { status, ...body } = doc;
    body.metadata = { ...body.metadata, namespace } as typeof body.metadata;
    const created = (await api.createNamespacedCustomObject({ ...GROUP, namespace, plural: 'testsessions', body })) as KubeObject;
    if (status) {
      const name = doc.metadata.name;
      await api.replaceNamespacedCustomObjectStatus({ ...GROUP, namespace, plural: 'testsessions', name, body: { ...created, status } });
    }
  }
  return docs.map((d) => d.metadata.name);
}

interface Farm {
  namespace: string;
  pools: string[];
  sessions: string[];
}

async function exampleFarm(prefix: string): Promise<Farm> {
  const namespace = await freshNamespace(prefix);
  await createExamplePools(namespace);
  const sessions = await createExampleSessions(namespace);
  return { namespace, pools: examplePoolNames(), sessions };
}

// ---------------------------------------------------------------------------------------
// Equality of the store and the apiserver

interface FarmPicture {
  templates: TemplateView[];
  pools: PoolView[];
  sessions: SessionView[];
  /** Session names per pool name, from the store's pool index (or from spec.poolRef). */
  sessionsByPool: Record<string, string[]>;
}

const byName = <T extends { name: string }>(items: T[]): T[] => [...items].sort((a, b) => a.name.localeCompare(b.name));

function indexByPool(poolNames: Iterable<string>, of: (pool: string) => SessionView[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const pool of [...new Set(poolNames)].sort()) out[pool] = of(pool).map((s) => s.name).sort();
  return out;
}

function remove<T>(items: T[], item: T): void {
  const i = items.indexOf(item);
  if (i >= 0) items.splice(i, 1);
}

/** What the apiserver holds, listed by the admin and put through the dashboard's own slim conversion. */
async function apiserverPicture(namespace: string): Promise<FarmPicture> {
  const api = adminKubeConfig().makeApiClient(CustomObjectsApi);
  const list = async (plural: string): Promise<KubeObject[]> =>
    ((await api.listNamespacedCustomObject({ ...GROUP, namespace, plural })) as { items: KubeObject[] }).items;
  const [templates, pools, sessions] = await Promise.all([list('devicetemplates'), list('devicepools'), list('testsessions')]);
  const sessionViews = byName(sessions.map(toSessionView));
  const poolNames = [...pools.map((p) => p.metadata.name), ...sessionViews.map((s) => s.spec.poolName)];
  return {
    templates: byName(templates.map(toTemplateView)),
    pools: byName(pools.map(toPoolView)),
    sessions: sessionViews,
    sessionsByPool: indexByPool(poolNames, (pool) => sessionViews.filter((s) => s.spec.poolName === pool)),
  };
}

/** What the dashboard's store serves for the namespace, through its public reads. */
function storePicture(app: FastifyInstance, namespace: string, poolNames: Iterable<string>): FarmPicture {
  const store = app.farm.store;
  const page = store.querySessions({ namespace, limit: MAX_LIMIT });
  if (page.next) throw new Error(`more than ${MAX_LIMIT} sessions in ${namespace}: the writer should keep far fewer`);
  const sessions = byName(page.items);
  for (const s of sessions) {
    if (store.getSession(namespace, s.name) !== s) throw new Error(`session ${s.name}: the query and getSession disagree`);
  }
  const pools = store.listPools(namespace);
  for (const p of pools) {
    if (store.getPool(namespace, p.name) !== p) throw new Error(`pool ${p.name}: listPools and getPool disagree`);
  }
  return {
    templates: store.listTemplates().filter((t) => t.namespace === namespace),
    pools,
    sessions,
    sessionsByPool: indexByPool(poolNames, (pool) => byName(store.sessionsOfPool(namespace, pool))),
  };
}

/** Names whose views differ, per kind: for a readable failure. */
function difference(truth: FarmPicture, seen: FarmPicture): string {
  const lines: string[] = [];
  for (const kind of ['templates', 'pools', 'sessions'] as const) {
    const a = new Map<string, unknown>(truth[kind].map((v) => [v.name, v]));
    const b = new Map<string, unknown>(seen[kind].map((v) => [v.name, v]));
    for (const name of new Set([...a.keys(), ...b.keys()])) {
      if (!b.has(name)) lines.push(`${kind}/${name}: missing from the store`);
      else if (!a.has(name)) lines.push(`${kind}/${name}: in the store but not in the apiserver`);
      else if (!isDeepStrictEqual(a.get(name), b.get(name))) {
        const rv = (v: unknown) => (v as { resourceVersion: string }).resourceVersion;
        lines.push(`${kind}/${name}: differs (apiserver rv ${rv(a.get(name))}, store rv ${rv(b.get(name))})`);
      }
    }
  }
  if (!isDeepStrictEqual(truth.sessionsByPool, seen.sessionsByPool)) {
    lines.push(`sessions by pool: apiserver ${JSON.stringify(truth.sessionsByPool)}, store ${JSON.stringify(seen.sessionsByPool)}`);
  }
  return lines.join('\n') || 'no difference';
}

/** Waits until the store equals the apiserver object by object; returns the agreed picture. */
async function expectStoreToEqualApiserver(app: FastifyInstance, namespace: string): Promise<FarmPicture> {
  let last: { truth: FarmPicture; seen: FarmPicture } | undefined;
  await waitFor(
    `the store to equal what the apiserver holds in ${namespace}`,
    async () => {
      const truth = await apiserverPicture(namespace);
      const seen = storePicture(app, namespace, Object.keys(truth.sessionsByPool));
      last = { truth, seen };
      return isDeepStrictEqual(seen, truth);
    },
    { timeoutMs: 30_000, intervalMs: 200, detail: () => (last ? difference(last.truth, last.seen) : 'nothing compared yet') },
  );
  expect(last!.seen).toEqual(last!.truth);
  return last!.truth;
}

// ---------------------------------------------------------------------------------------
// The writer: an operator and its users, changing the farm without pause

interface DeviceStatus {
  name: string;
  state: string;
  [field: string]: unknown;
}

const STATES = ['Booting', 'Idle', 'Busy', 'Unhealthy'] as const;
const PHASES = ['Pending', 'Assigned', 'Running', 'Succeeded', 'Failed', 'Cancelled', 'TimedOut'] as const;
const MAX_SESSIONS = 40;

function countsOf(devices: DeviceStatus[]) {
  const n = (state: string) => devices.filter((d) => d.state === state).length;
  return { booting: n('Booting'), idle: n('Idle'), busy: n('Busy'), unhealthy: n('Unhealthy') };
}

/**
 * Changes the farm one request after another until stopped. Requests fail while the apiserver
 * is away: the writer counts that and goes on, as an operator would. It only deletes what it
 * created, so the tests' own deletions of example objects stay theirs.
 */
class FarmWriter {
  /** Requests the apiserver accepted. */
  ok = 0;
  /** Requests that failed (apiserver unreachable, shutting down, starting). */
  failed = 0;
  /** 404/409: the object was already gone or taken; the writer forgets it and goes on. */
  refused = 0;
  readonly failures = new Map<string, number>();
  private readonly cluster = new KubeCluster(adminKubeConfig());
  private readonly random: Random;
  private readonly pools: string[];
  private readonly ownPools: string[] = [];
  private readonly ownSessions: string[] = [];
  private serial = 0;
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly namespace: string,
    pools: string[],
    private readonly template: string,
    seed: number,
  ) {
    this.pools = [...pools];
    this.random = mulberry32(seed);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Waits until `n` more requests have been accepted than when called. */
  async madeChanges(n: number, what = `the writer to make ${n} more changes`): Promise<void> {
    const target = this.ok + n;
    await waitFor(what, () => this.ok >= target, {
      timeoutMs: 60_000,
      detail: () => `accepted ${this.ok}, failed ${this.failed}: ${JSON.stringify(Object.fromEntries(this.failures))}`,
    });
    expect(this.ok).toBeGreaterThanOrEqual(target);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    this.loop = undefined;
    await this.cluster.close();
  }

  /** Stops touching a pool (one the test is about to delete). */
  forget(pool: string): void {
    remove(this.pools, pool);
    remove(this.ownPools, pool);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
        this.ok++;
      } catch (err) {
        if (err instanceof ClusterError && (err.status === 404 || err.status === 409)) {
          this.refused++;
          continue;
        }
        this.failed++;
        const what = err instanceof ClusterError ? `${err.status} ${err.reason || err.message.slice(0, 60)}` : String(err).slice(0, 80);
        this.failures.set(what, (this.failures.get(what) ?? 0) + 1);
        // The apiserver is away: wait a moment, as any client would, instead of spinning on
        // refused connections and starving the apiserver that is starting on these two cores.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.random() * items.length)];
  }

  /** One change; throws what the apiserver answered. */
  private async step(): Promise<void> {
    const r = this.random();
    if (r < 0.35) return this.changeDeviceState();
    if (r < 0.45) return this.scalePool();
    if (r < 0.7) return this.ownSessions.length < MAX_SESSIONS ? this.createSession() : this.deleteSession();
    if (r < 0.8) return this.deleteSession();
    if (r < 0.9) return this.advanceSession();
    if (r < 0.94) return this.touchTemplate();
    if (r < 0.97) return this.createPool();
    return this.deletePool();
  }

  private async changeDeviceState(): Promise<void> {
    const pool = this.pick(this.pools);
    if (!pool) return this.createPool();
    const current = await this.call(() => this.cluster.get('pools', this.namespace, pool), pool);
    const devices = ((current.status as { devices?: DeviceStatus[] } | undefined)?.devices ?? []).map((d) => ({ ...d }));
    const device = this.pick(devices);
    if (!device) return this.scalePool(pool);
    device.state = this.pick(STATES)!;
    device.lastHeartbeatTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await this.call(
      () => this.cluster.patch('pools', this.namespace, pool, { status: { devices, counts: countsOf(devices) } }, { subresource: 'status' }),
      pool,
    );
  }

  private async scalePool(name = this.pick(this.pools)): Promise<void> {
    if (!name) return this.createPool();
    await this.call(() => this.cluster.patch('pools', this.namespace, name, { spec: { replicas: Math.floor(this.random() * 7) } }), name);
  }

  private async createPool(): Promise<void> {
    const name = `churn-pool-${++this.serial}`;
    await this.cluster.create('pools', this.namespace, {
      apiVersion: 'droidfarm.io/v1alpha1',
      kind: 'DevicePool',
      metadata: { name, labels: { 'droidfarm.io/churn': 'true' } },
      spec: { templateRef: { name: this.template }, replicas: 2 },
    });
    this.pools.push(name);
    this.ownPools.push(name);
    const devices = [0, 1].map((i) => ({ name: `${name}-${i}`, state: 'Booting', podName: `droidfarm-${name}-${i}` }));
    const status = { observedGeneration: 1, replicas: 2, devices, counts: countsOf(devices) };
    await this.cluster.patch('pools', this.namespace, name, { status }, { subresource: 'status' });
  }

  private async deletePool(): Promise<void> {
    const name = this.pick(this.ownPools);
    if (!name) return this.createPool();
    this.forget(name);
    await this.cluster.delete('pools', this.namespace, name);
  }

  private async createSession(): Promise<void> {
    const pool = this.pick(this.pools);
    if (!pool) return this.createPool();
    const name = `churn-session-${++this.serial}`;
    await this.cluster.create('sessions', this.namespace, {
      apiVersion: 'droidfarm.io/v1alpha1',
      kind: 'TestSession',
      metadata: { name, labels: { 'droidfarm.io/churn': 'true' } },
      spec: { poolRef: { name: pool }, timeoutSeconds: 600 },
    });
    this.ownSessions.push(name);
  }

  private async advanceSession(): Promise<void> {
    const name = this.pick(this.ownSessions);
    if (!name) return this.createSession();
    const completed = Math.floor(this.random() * 10);
    await this.call(
      () =>
        this.cluster.patch(
          'sessions',
          this.namespace,
          name,
          { status: { phase: this.pick(PHASES), progress: { completed, total: 10 }, message: `step ${this.serial++}` } },
          { subresource: 'status' },
        ),
      name,
      this.ownSessions,
    );
  }

  private async deleteSession(): Promise<void> {
    const name = this.pick(this.ownSessions);
    if (!name) return this.createSession();
    remove(this.ownSessions, name);
    await this.cluster.delete('sessions', this.namespace, name);
  }

  private async touchTemplate(): Promise<void> {
    await this.cluster.patch('templates', this.namespace, this.template, { metadata: { labels: { 'droidfarm.io/touched': String(++this.serial) } } });
  }

  /** Runs a request on a named object; on 404 the object is gone, so the writer forgets it. */
  private async call<T>(request: () => Promise<T>, name: string, list: string[] = this.pools): Promise<T> {
    try {
      return await request();
    } catch (err) {
      if (err instanceof ClusterError && err.status === 404) remove(list, name);
      throw err;
    }
  }
}

/** A Kubernetes Event about a pool, as the operator would write it. */
function poolEvent(namespace: string, pool: string, name: string): NewKubeObject {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace },
    involvedObject: { apiVersion: 'droidfarm.io/v1alpha1', kind: 'DevicePool', name: pool, namespace },
    reason: 'DeviceStateChanged',
    message: `${name}: a device of ${pool} changed state`,
    type: 'Normal',
    source: { component: 'droidfarm-operator' },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

// ---------------------------------------------------------------------------------------
// A network partition between the dashboard and the apiserver

/**
 * A TCP pass-through to the apiserver (TLS goes through untouched, so the dashboard still
 * verifies the apiserver's certificate). cut() drops every connection and refuses new ones
 * until heal(): the dashboard is cut off while everyone else still reaches the apiserver.
 */
class Partition {
  readonly url: string;
  private readonly sockets = new Set<net.Socket>();
  private isCut = false;

  private constructor(
    private readonly server: net.Server,
    target: URL,
  ) {
    this.url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    server.on('connection', (client) => {
      if (this.isCut) {
        client.destroy();
        return;
      }
      const upstream = net.connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {}); // a reset on one side closes the other; nothing to report
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
  }

  static async start(target: string): Promise<Partition> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    return new Partition(server, new URL(target));
  }

  cut(): void {
    this.isCut = true;
    for (const s of this.sockets) s.destroy();
  }

  heal(): void {
    this.isCut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A kubeconfig for the admin that reaches the apiserver through this partition. */
  async kubeconfig(dir: string): Promise<string> {
    const { caData, adminToken } = clusterInfo();
    const file = path.join(dir, 'partitioned.kubeconfig');
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'partitioned', cluster: { server: this.url, 'certificate-authority-data': caData } }],
      users: [{ name: 'admin', user: { token: adminToken } }],
      contexts: [{ name: 'partitioned', context: { cluster: 'partitioned', user: 'admin' } }],
      'current-context': 'partitioned',
    };
    await fsp.writeFile(file, JSON.stringify(config), { mode: 0o600 });
    return file;
  }
}

// ---------------------------------------------------------------------------------------
// What the dashboard tells about itself

type Stats = Array<Pick<InformerStatus, 'resource' | 'restarts' | 'relists' | 'state' | 'synced'>>;

function informerStats(app: FastifyInstance): Stats {
  return app.farm.sync.statuses().map(({ resource, restarts, relists, state, synced }) => ({ resource, restarts, relists, state, synced }));
}

/** Records whether the store ever reported its data as stale (some watch failing). */
function staleWatcher(app: FastifyInstance): { seen: () => boolean; stop: () => void } {
  let seen = false;
  const stop = app.farm.store.subscribe((change) => {
    if (change.kind === 'sync' && change.status.stale) seen = true;
  });
  return { seen: () => seen, stop };
}

async function expectReady(app: FastifyInstance): Promise<void> {
  const ready = await waitFor('/readyz to answer 200 with fresh data', async () => {
    const res = await app.inject('/readyz');
    const body = res.json() as { stale: boolean };
    return res.statusCode === 200 && !body.stale && body;
  });
  expect(ready).toEqual({ status: 'ready', synced: true, stale: false, reasons: [] });
}

// ---------------------------------------------------------------------------------------

describe('the store after disruptions, while a writer keeps changing the farm', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function dashboardOn(farm: Farm, args: string[] = []): Promise<FastifyInstance> {
    const app = await startDashboard({ namespaces: [farm.namespace], args, sync: FAST_SYNC });
    cleanups.push(() => app.close());
    await app.farm.sync.whenSynced();
    await expectStoreToEqualApiserver(app, farm.namespace);
    return app;
  }

  function writerOn(farm: Farm, seed: number, pools = farm.pools): FarmWriter {
    const writer = new FarmWriter(farm.namespace, pools, 'pixel-6-android-14', seed);
    cleanups.push(() => writer.stop());
    writer.start();
    return writer;
  }

  it.each([
    { expireWatches: false, story: 'watches resume from where they were' },
    { expireWatches: true, story: 'etcd compacted while it was down, so every watch relists after 410' },
  ])(
    'kube-apiserver restarts ($story): afterwards the store equals the apiserver',
    async ({ expireWatches }) => {
      const farm = await exampleFarm(expireWatches ? 'resilience-expire' : 'resilience-restart');
      const app = await dashboardOn(farm);
      const stale = staleWatcher(app);
      cleanups.push(stale.stop);
      const before = informerStats(app);

      const writer = writerOn(farm, expireWatches ? 7 : 3);
      await writer.madeChanges(30, 'the writer to get going');
      const failedBefore = writer.failed;
      await restartApiserver({ expireWatches });
      await writer.madeChanges(30, 'the writer to make 30 changes after the restart');
      await writer.stop();

      // The writer kept writing through the outage, and some of its requests failed there.
      expect(writer.failed).toBeGreaterThan(failedBefore);
      const truth = await expectStoreToEqualApiserver(app, farm.namespace);
      expect(truth.pools.length).toBeGreaterThan(0);
      expect(truth.sessions.length).toBeGreaterThan(0);

      // Every informer lost its watch and came back; with compaction each one relisted.
      const after = informerStats(app);
      // Events: one watch per involvedObject.kind the pages show (TestSession, DevicePool, Pod).
      expect(after.map((s) => s.resource).sort()).toEqual(['events', 'events', 'events', 'pools', 'sessions', 'templates']);
      for (const [i, s] of after.entries()) {
        expect(s, s.resource).toMatchObject({ state: 'live', synced: true });
        expect(s.restarts, `${s.resource} restarts`).toBeGreaterThan(before[i]!.restarts);
        if (expireWatches) expect(s.relists, `${s.resource} relists`).toBeGreaterThan(before[i]!.relists);
        // Without the watch cache, etcd still has the history: a resumed watch needs no relist.
        else if (!clusterInfo().watchCache) expect(s.relists, `${s.resource} relists`).toBe(before[i]!.relists);
      }
      expect(stale.seen()).toBe(true);
      await expectReady(app);
    },
    DISRUPTION_TIMEOUT_MS,
  );

  it(
    'cut off while objects are deleted, changed and created and etcd is compacted: every watch relists after 410 and the store ends up exact',
    async () => {
      const farm = await exampleFarm('resilience-partition');
      const { namespace } = farm;
      const cluster = new KubeCluster(adminKubeConfig());
      cleanups.push(() => cluster.close());
      // Objects the writer never touches, so that only the relist can bring their fate: a
      // pool whose device changes, and an event about it that is replaced.
      await cluster.create('pools', namespace, {
        apiVersion: 'droidfarm.io/v1alpha1',
        kind: 'DevicePool',
        metadata: { name: 'quiet' },
        spec: { templateRef: { name: 'pixel-8-android-15' }, replicas: 1 },
      });
      const quietDevice = (state: string) => ({ status: { devices: [{ name: 'quiet-0', state }], counts: countsOf([{ name: 'quiet-0', state }]) } });
      await cluster.patch('pools', namespace, 'quiet', quietDevice('Idle'), { subresource: 'status' });
      await cluster.create('events', namespace, poolEvent(namespace, 'quiet', 'seen-before'));

      const partition = await Partition.start(clusterInfo().server);
      cleanups.push(() => partition.close());
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'droidfarm-partition-'));
      cleanups.push(() => fsp.rm(dir, { recursive: true, force: true }));
      const app = await dashboardOn(farm, ['--kubeconfig', await partition.kubeconfig(dir)]);
      const store = app.farm.store;
      const eventNames = () => store.eventsFor('DevicePool', namespace, 'quiet').map((e) => e.name);
      expect(eventNames()).toEqual(['seen-before']);
      const stale = staleWatcher(app);
      cleanups.push(stale.stop);

      // The writer works on pool smoke and on what it creates itself.
      const writer = writerOn(farm, 11, ['smoke']);
      await writer.madeChanges(30, 'the writer to get going');

      const before = informerStats(app);
      partition.cut();
      await waitFor('every informer to notice it is cut off', () => informerStats(app).every((s, i) => s.restarts > before[i]!.restarts));

      // Changes the dashboard cannot see, besides the writer's: pool regression and the
      // sessions queued on it go away, a session finishes, a device turns Unhealthy, a
      // template is relabelled, an event is replaced, a session appears.
      const goneSessions = farm.sessions.filter((name) => store.getSession(namespace, name)?.spec.poolName === 'regression');
      expect(goneSessions.length).toBeGreaterThan(0);
      await cluster.delete('pools', namespace, 'regression');
      for (const name of goneSessions) await cluster.delete('sessions', namespace, name);
      const finished = { phase: 'Succeeded', results: { passed: 40, failed: 0, skipped: 2 } };
      await cluster.patch('sessions', namespace, 'checkout-flow', { status: finished }, { subresource: 'status' });
      await cluster.patch('pools', namespace, 'quiet', quietDevice('Unhealthy'), { subresource: 'status' });
      await cluster.patch('templates', namespace, 'pixel-8-android-15', { metadata: { labels: { 'droidfarm.io/relabelled': 'while-cut-off' } } });
      await cluster.delete('events', namespace, 'seen-before');
      await cluster.create('events', namespace, poolEvent(namespace, 'quiet', 'born-while-cut-off'));
      await cluster.create('sessions', namespace, {
        apiVersion: 'droidfarm.io/v1alpha1',
        kind: 'TestSession',
        metadata: { name: 'born-while-cut-off' },
        spec: { poolRef: { name: 'smoke' } },
      });
      await writer.madeChanges(30, 'the writer to make 30 changes while the dashboard is cut off');

      // Expire every resourceVersion the dashboard holds. Without the watch cache compaction
      // alone does it; with the cache, a resumed watch would be replayed from the cache, so
      // the apiserver restarts over the compacted etcd instead.
      if (clusterInfo().watchCache) await restartApiserver({ expireWatches: true });
      else await compactEtcd();
      await writer.madeChanges(30, 'the writer to make 30 changes after the compaction');

      // Nothing reached the store: it still shows the farm as it was.
      expect(store.getPool(namespace, 'regression')).toBeDefined();
      for (const name of goneSessions) expect(store.getSession(namespace, name), name).toBeDefined();
      expect(store.getSession(namespace, 'checkout-flow')?.phase).toBe('Running');
      expect(store.getPool(namespace, 'quiet')?.devices.map((d) => d.state)).toEqual(['Idle']);
      expect(store.getTemplate(namespace, 'pixel-8-android-15')?.labels).not.toHaveProperty('droidfarm.io/relabelled');
      expect(eventNames()).toEqual(['seen-before']);
      expect(store.getSession(namespace, 'born-while-cut-off')).toBeUndefined();
      expect(informerStats(app).map((s) => s.relists)).toEqual(before.map((s) => s.relists));

      partition.heal();
      await writer.madeChanges(30, 'the writer to make 30 changes after the dashboard is back');
      await writer.stop();

      const truth = await expectStoreToEqualApiserver(app, namespace);
      // The store picture holds pools, sessions and templates; Events come through watches of
      // their own (one per involvedObject.kind), each relisting on its own backoff: wait
      // until every informer has relisted and is live again before looking at any of it.
      await waitFor('every informer to relist and be live again', () => informerStats(app).every((s, i) => s.state === 'live' && s.relists > before[i]!.relists), {
        timeoutMs: 60_000,
        detail: () => JSON.stringify(informerStats(app).map((s) => ({ resource: s.resource, state: s.state, relists: s.relists }))),
      });
      // What the equality covers, spelled out for the objects only the relist could bring.
      expect(truth.pools.map((p) => p.name)).not.toContain('regression');
      expect(store.getPool(namespace, 'regression')).toBeUndefined();
      for (const name of goneSessions) expect(store.getSession(namespace, name), name).toBeUndefined();
      const leftOnRegression = store.sessionsOfPool(namespace, 'regression').map((s) => s.name);
      for (const name of goneSessions) expect(leftOnRegression).not.toContain(name);
      expect(store.getSession(namespace, 'checkout-flow')).toMatchObject(finished);
      expect(store.getPool(namespace, 'quiet')?.devices.map((d) => d.state)).toEqual(['Unhealthy']);
      expect(store.getTemplate(namespace, 'pixel-8-android-15')?.labels).toHaveProperty('droidfarm.io/relabelled', 'while-cut-off');
      expect(eventNames()).toEqual(['born-while-cut-off']);
      expect(store.getSession(namespace, 'born-while-cut-off')?.spec.poolName).toBe('smoke');

      // Each informer came back to 410 Gone and rebuilt its cache from a full list.
      for (const [i, s] of informerStats(app).entries()) {
        expect(s, s.resource).toMatchObject({ state: 'live', synced: true });
        expect(s.relists, `${s.resource} relists`).toBeGreaterThan(before[i]!.relists);
      }
      expect(stale.seen()).toBe(true);
      await expectReady(app);
    },
    DISRUPTION_TIMEOUT_MS,
  );
});
