// The bench's server process: the real dashboard (buildApp) over the in-memory cluster,
// listening on loopback, with one pool of BENCH_DEVICES devices. The parent drives it over
// IPC: make a device change, render the pool page in-process, report the broker's counters.
// Nothing else runs in this process, so its RSS and its event loop are the dashboard's.
import { Socket, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { LISTEN_BACKLOG } from '../../src/http/limits.js';
import { KubeCluster, loadKubeConfig } from '../../src/kube/kube-cluster.js';
import { changeOneDevice, createFarm, createSessions, MARKER, NAMESPACE, POOL, tickSession } from './farm.js';
import { TimedWatchCluster } from './timed-watch.js';
import { clockMs, openFileLimit, profilerHandlers, sendNotice, serve } from './proc.js';

export interface ServerReady {
  notice: 'ready';
  port: number;
  pid: number;
  node: string;
  production: boolean;
  openFiles: number;
}

export interface ChangeResult {
  /** When the change was handed to the cluster (clockMs). */
  at: number;
  /** When the store applied it (clockMs), as seen by a store subscriber. */
  storedAt: number | undefined;
}

export interface RoundEnd {
  /** Socket writes during the round (events, and any heartbeat). */
  writes: number;
  /** When the last of them had been handed to the kernel (clockMs). */
  lastWrittenAt: number | undefined;
  /** Server CPU time (user + system) from the change to now, ms. */
  cpuMs: number;
  /** With a real apiserver: when the dashboard read the change's watch event (clockMs). */
  watchAt: number | undefined;
  /** When the store applied it (clockMs). */
  storedAt: number | undefined;
}

export interface InjectResult {
  /** Wall time of each app.inject, ms. */
  times: number[];
  /** CPU time (user + system) of the whole loop divided by the renders, ms. */
  cpuPerRender: number;
  bytes: number;
}

const devicesCount = Number(process.env.BENCH_DEVICES ?? 1000);
const production = process.env.NODE_ENV === 'production';

const sessionsCount = Number(process.env.BENCH_SESSIONS ?? 0);
// With BENCH_KUBECONFIG (the fanout-kube bench), the farm lives in a real kube-apiserver and
// the dashboard watches it as in a cluster; the watch is timed as its events arrive.
const kubeconfig = process.env.BENCH_KUBECONFIG;
const watchAt = new Map<number, number>();
const { cluster, devices } = kubeconfig ? await createFarm(devicesCount, new TimedWatchCluster(new KubeCluster(loadKubeConfig({ kubeconfig })), watchAt)) : await createFarm(devicesCount);
await createSessions(cluster, sessionsCount);
// Every bench client comes from 127.0.0.1: lift the per-address cap (and the total) above
// the largest run, as a deployment behind a proxy would.
const config = loadConfig({
  argv: [
    ...(kubeconfig ? ['--kubeconfig', kubeconfig, '--namespace', NAMESPACE] : ['--demo']),
    ...['--host', '127.0.0.1', '--port', '0', '--log-level', 'error', '--max-live-clients', '100000', '--max-live-clients-per-address', '100000'],
  ],
  env: process.env,
})!;
const app = await buildApp(config, { cluster });

// Server-side time of each real page request, from Fastify's own clock (request received
// to response handed to the socket).
const pageTimes: number[] = [];
app.addHook('onResponse', async (request, reply) => {
  if (request.url.startsWith('/pools/')) pageTimes.push(reply.elapsedTime);
});

// When each bench change reaches the store: the broker subscribed first, so this runs just
// after it has marked the fragments.
const storedAt = new Map<number, number>();
app.farm.store.subscribe((change) => {
  if (change.kind !== 'device') return;
  const m = change.device.message.match(new RegExp(`${MARKER}(\\d+)-`));
  if (m && !storedAt.has(Number(m[1]))) storedAt.set(Number(m[1]), clockMs());
});

// When the server has handed a round's event to the kernel for the last client: every
// socket write during a round gets a completion callback (the live clients pass none). This
// tells the server's share of the latency from the client process's.
const round = { active: false, n: 0, writes: 0, lastWrittenAt: undefined as number | undefined, cpu: process.cpuUsage() };
const written = () => {
  round.lastWrittenAt = clockMs();
};
const write = Socket.prototype.write as (this: Socket, chunk: unknown, ...rest: unknown[]) => boolean;
Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]): boolean {
  if (!round.active || rest.length > 0) return write.call(this, chunk, ...rest);
  round.writes++;
  return write.call(this, chunk, written);
} as typeof Socket.prototype.write;

// The listen backlog is production's (LISTEN_BACKLOG) unless BENCH_BACKLOG says otherwise
// (511, Node's default, shows what a storm does without it).
await app.listen({ host: config.host, port: config.port, backlog: process.env.BENCH_BACKLOG ? Number(process.env.BENCH_BACKLOG) : LISTEN_BACKLOG });
await app.farm.sync.whenSynced();
if (app.farm.store.getPool(NAMESPACE, POOL)?.devices.length !== devicesCount) throw new Error('the bench pool did not reach the store');

/** Session progress changes at a steady rate, as a farm running tests makes them. */
const churn = { timer: undefined as NodeJS.Timeout | undefined, ticks: 0 };

serve({
  churnStart: ({ perSecond }: { perSecond: number }) => {
    clearInterval(churn.timer);
    churn.timer = setInterval(() => void tickSession(cluster, sessionsCount, churn.ticks++), 1000 / perSecond);
    return churn.ticks;
  },
  churnTicks: () => churn.ticks,
  churnStop: () => {
    clearInterval(churn.timer);
    return churn.ticks;
  },
  /** The server's CPU time (user + system) so far, ms: the parent takes differences. */
  cpu: () => {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  },
  change: async ({ round: n }: { round: number }): Promise<ChangeResult> => {
    Object.assign(round, { active: true, n, writes: 0, lastWrittenAt: undefined, cpu: process.cpuUsage() });
    const at = clockMs();
    await changeOneDevice(cluster, devices, n);
    // The watch delivers on a microtask: wait a turn so the store has it.
    await new Promise((resolve) => setImmediate(resolve));
    return { at, storedAt: storedAt.get(n) };
  },
  roundEnd: (): RoundEnd => {
    round.active = false;
    const cpu = process.cpuUsage(round.cpu);
    return { writes: round.writes, lastWrittenAt: round.lastWrittenAt, cpuMs: (cpu.user + cpu.system) / 1000, watchAt: watchAt.get(round.n), storedAt: storedAt.get(round.n) };
  },
  stats: () => ({
    ...app.farm.broker.stats(),
    memory: process.memoryUsage(),
    // Committed size of each V8 heap space, MB: the young generation is sized from the
    // machine's memory, and is much of the difference between heap used and heap total.
    spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size / 2 ** 20])),
  }),
  /** With BENCH_HEAP_SNAPSHOT_DIR set, a heap snapshot of the server (after connect). */
  heapSnapshot: ({ name }: { name: string }) => (process.env.BENCH_HEAP_SNAPSHOT_DIR ? writeHeapSnapshot(join(process.env.BENCH_HEAP_SNAPSHOT_DIR, `${name}.heapsnapshot`)) : undefined),
  /** A full garbage collection, so the parent can read the RSS of live memory only. */
  gc: () => {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    return process.memoryUsage();
  },
  inject: async ({ url, warmup, count }: { url: string; warmup: number; count: number }): Promise<InjectResult> => {
    let bytes = 0;
    for (let i = 0; i < warmup; i++) await app.inject(url);
    const times: number[] = [];
    const cpu = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      const res = await app.inject(url);
      times.push(performance.now() - t);
      if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
      bytes = res.rawPayload.length;
    }
    const used = process.cpuUsage(cpu);
    return { times, cpuPerRender: (used.user + used.system) / 1000 / count, bytes };
  },
  /** Takes the server-side times of the real page requests made so far. */
  pageTimes: () => pageTimes.splice(0),
  // With BENCH_PROFILE_DIR set, the parent profiles the measured part of a run.
  ...profilerHandlers(),
});

process.on('SIGTERM', () => void app.close().finally(() => process.exit(0)));
sendNotice({
  notice: 'ready',
  port: (app.server.address() as AddressInfo).port,
  pid: process.pid,
  node: process.version,
  production,
  openFiles: openFileLimit(),
} satisfies ServerReady);
