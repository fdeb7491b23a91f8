// Fan-out: one device change, delivered to N SSE clients. A fresh server process and a
// fresh client process per N; the clients connect, then the server changes one device per
// round (warm-up rounds first, not counted) and the clients report when its bytes arrived.
// Latency runs from the moment the change is handed to the cluster to the moment a client
// has read the event: it includes the watch, the store, the broker's coalescing window,
// rendering once, writing to every socket and the client process reading them.
import { join } from 'node:path';
import type { ClientsStatus, ConnectResult, RoundResult } from './clients.js';
import { BENCH_DIR, Child, memoryOf, serverEnv, sleep, type Memory } from './proc.js';
import type { ChangeResult, RoundEnd, ServerReady } from './server.js';
import { summarise, type Summary } from './stats.js';

export interface FanoutOptions {
  /** The server script: compiled JavaScript, or server.ts to run it under tsx. */
  serverScript: string;
  clients: number;
  changes: number;
  warmup: number;
  devices: number;
  concurrency: number;
  /** Longest wait for one round to reach every client. */
  roundTimeoutMs: number;
  log: (line: string) => void;
  /** A real kube-apiserver holds the farm (the fanout-kube bench): the server watches it through this kubeconfig. */
  kubeconfig?: string;
}

export interface FanoutResult {
  clients: number;
  devices: number;
  node: string;
  connect: ConnectResult;
  /** Delivery latency over every client of every measured round, ms. */
  latency: Summary;
  /** The slowest client of each measured round, ms. */
  lastClientPerRound: number[];
  /** From the cluster write to the store's change event, ms. */
  toStore: Summary;
  /** With a real apiserver: from the write to the dashboard reading its watch event, ms. */
  toWatch?: Summary;
  /** With a real apiserver: the dashboard's share, from its watch event to each client having read it, ms. */
  dashboardShare?: Summary;
  /** With a real apiserver: from the watch event to the server handing the last client its bytes, one per round, ms. */
  watchToWritten?: Summary;
  kube: boolean;
  /** From the cluster write to the server handing the last client its bytes, ms. */
  serverWritten: Summary;
  /** CPU time per change of the server and of the client process, ms. */
  serverCpu: Summary;
  clientCpu: Summary;
  rounds: number;
  missing: number;
  memory: { idle: Memory; connected: Memory; afterFanout: Memory; afterGc: Memory; heapUsedMB: number };
  /** process.memoryUsage() of the server, after connect and after the fan-out. */
  heap: { connected: NodeJS.MemoryUsage; afterFanout: NodeJS.MemoryUsage; afterGc: NodeJS.MemoryUsage };
  /** Committed V8 heap spaces after the fan-out, MB. */
  spaces: Record<string, number>;
  broker: { clients: number; dropped: number; eventsSent: number; maxHeldBytes: number };
  clientsAfter: ClientsStatus;
  problems: string[];
}

interface ServerStats {
  clients: number;
  dropped: number;
  eventsSent: number;
  maxHeldBytes: number;
  fragmentsRendered: number;
  memory: NodeJS.MemoryUsage;
  spaces: Record<string, number>;
}

export async function runFanout(options: FanoutOptions): Promise<FanoutResult> {
  const { log } = options;
  const problems: string[] = [];
  const server = Child.start(
    'server',
    options.serverScript,
    serverEnv({ NODE_ENV: 'production', BENCH_DEVICES: String(options.devices), ...(options.kubeconfig ? { BENCH_KUBECONFIG: options.kubeconfig } : {}) }),
  );
  let clients: Child | undefined;
  try {
    const ready = (await server.notice('ready', 120_000)) as unknown as ServerReady;
    if (ready.openFiles < options.clients + 256) {
      throw new Error(`the server's open-file limit is ${ready.openFiles}, too low for ${options.clients} clients: raise the hard limit (ulimit -Hn) and run again`);
    }
    const idle = memoryOf(server.pid);
    clients = Child.start('clients', join(BENCH_DIR, 'clients.ts'));
    await clients.notice('ready', 60_000);

    log(`  connecting ${options.clients} clients (${options.concurrency} at a time)…`);
    const connect = await clients.call<ConnectResult>(
      'connect',
      { port: ready.port, count: options.clients, concurrency: options.concurrency, timeoutMs: 30_000 },
      // Generous: a loaded machine connects a few hundred clients a second.
      120_000 + options.clients * 20,
    );
    if (connect.failed > 0) problems.push(`${connect.failed} of ${options.clients} clients could not connect (${connect.errors.join('; ')})`);
    log(`  ${connect.connected} connected in ${(connect.ms / 1000).toFixed(1)} s`);

    // Every connected client must be registered with the broker before the first change.
    let stats = await server.call<ServerStats>('stats');
    for (let i = 0; i < 100 && stats.clients < connect.connected; i++) {
      await sleep(100);
      stats = await server.call<ServerStats>('stats');
    }
    if (stats.clients !== connect.connected) problems.push(`the broker has ${stats.clients} clients, the client process ${connect.connected}`);
    await sleep(1_000); // let the snapshot writes drain and the heap settle
    const connected = memoryOf(server.pid);
    const heapConnected = (await server.call<ServerStats>('stats')).memory;
    const snapshot = await server.call<string | undefined>('heapSnapshot', { name: `connected-${options.clients}` }, 300_000);
    if (snapshot) log(`  server heap snapshot: ${snapshot}`);

    const latencies: number[] = [];
    const toStore: number[] = [];
    const toWatch: number[] = [];
    const dashboardShare: number[] = [];
    const watchToWritten: number[] = [];
    const serverWritten: number[] = [];
    const serverCpu: number[] = [];
    const clientCpu: number[] = [];
    const lastClientPerRound: number[] = [];
    let missing = 0;
    let profiling = false;
    const total = options.warmup + options.changes;
    for (let round = 1; round <= total; round++) {
      if (round === options.warmup + 1 && (await server.call<boolean>('profileStart'))) profiling = true;
      const change = await server.call<ChangeResult>('change', { round });
      const result = await clients.call<RoundResult>('round', { round, at: change.at, timeoutMs: options.roundTimeoutMs }, options.roundTimeoutMs + 30_000);
      const end = await server.call<RoundEnd>('roundEnd');
      // Rounds stay apart: a change never shares the broker's coalescing window with the last.
      await sleep(100);
      if (round <= options.warmup) continue;
      for (const l of result.latencies) latencies.push(l);
      const storedAt = change.storedAt ?? end.storedAt;
      if (storedAt !== undefined) toStore.push(storedAt - change.at);
      if (end.watchAt !== undefined) {
        const watch = end.watchAt - change.at;
        toWatch.push(watch);
        for (const l of result.latencies) dashboardShare.push(l - watch);
        if (end.lastWrittenAt !== undefined) watchToWritten.push(end.lastWrittenAt - end.watchAt);
      } else if (options.kubeconfig) {
        problems.push(`round ${round}: the watch event of the change was not seen`);
      }
      if (end.lastWrittenAt !== undefined) serverWritten.push(end.lastWrittenAt - change.at);
      serverCpu.push(end.cpuMs);
      clientCpu.push(result.cpuMs);
      lastClientPerRound.push(result.latencies.reduce((a, b) => Math.max(a, b), -Infinity));
      missing += result.missing;
    }
    if (profiling) log(`  server profile of the measured rounds: ${await server.call<string>('profileStop', { name: `fanout-${options.clients}` })}`);
    if (missing > 0) problems.push(`${missing} deliveries did not arrive within ${options.roundTimeoutMs} ms`);
    await sleep(500);
    const afterFanout = memoryOf(server.pid);
    stats = await server.call<ServerStats>('stats');
    if (stats.dropped > 0) problems.push(`the broker dropped ${stats.dropped} clients as too slow`);
    const clientsAfter = await clients.call<ClientsStatus>('status');
    const heapAfterGc = await server.call<NodeJS.MemoryUsage>('gc');
    const afterGc = memoryOf(server.pid);
    if (clientsAfter.open !== connect.connected) problems.push(`${connect.connected - clientsAfter.open} clients lost their stream during the run`);

    return {
      clients: options.clients,
      devices: options.devices,
      node: ready.node,
      connect,
      latency: summarise(latencies),
      lastClientPerRound,
      toStore: summarise(toStore),
      ...(options.kubeconfig ? { toWatch: summarise(toWatch), dashboardShare: summarise(dashboardShare), watchToWritten: summarise(watchToWritten) } : {}),
      kube: Boolean(options.kubeconfig),
      serverWritten: summarise(serverWritten),
      serverCpu: summarise(serverCpu),
      clientCpu: summarise(clientCpu),
      rounds: options.changes,
      missing,
      memory: { idle, connected, afterFanout, afterGc, heapUsedMB: stats.memory.heapUsed / 2 ** 20 },
      heap: { connected: heapConnected, afterFanout: stats.memory, afterGc: heapAfterGc },
      spaces: stats.spaces,
      broker: { clients: stats.clients, dropped: stats.dropped, eventsSent: stats.eventsSent, maxHeldBytes: stats.maxHeldBytes },
      clientsAfter,
      problems,
    };
  } finally {
    // Clients first, so the server is not busy ending 10,000 streams while it exits.
    await clients?.stop();
    await server.stop();
  }
}
