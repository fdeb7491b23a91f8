// Session-list viewers beside pool viewers: what 1,000 open /sessions tabs cost while the
// farm's sessions change 5 times a second, and whether pool-page viewers notice them. One
// server, two client processes, both sides in one run:
//   1. 1,000 pool-page clients; sessions tick at 5/s: the server's CPU over a window, then
//      the pool clients' delivery latency over device-change rounds (without session viewers);
//   2. 1,000 /sessions clients join (they subscribe to the list topic as a browser tab does,
//      and, as browsers now do, never re-fetch the list): the same two measurements;
//   3. they leave, and the first side is measured again: the machine's drift over the run.
import { join } from 'node:path';
import type { ConnectResult, RoundResult } from './clients.js';
import { SESSIONS_TOPIC } from './farm.js';
import { BENCH_DIR, Child, memoryOf, serverEnv, sleep } from './proc.js';
import type { ChangeResult, ServerReady } from './server.js';
import { summarise, type Summary } from './stats.js';

export interface ViewersOptions {
  serverScript: string;
  poolViewers: number;
  sessionViewers: number;
  sessions: number;
  devices: number;
  changesPerSecond: number;
  windowMs: number;
  rounds: number;
  log: (line: string) => void;
}

export interface ViewersSide {
  /** Server CPU over the window, in % of one core. */
  cpuPercent: number;
  /** Session changes made during the window. */
  sessionChanges: number;
  /** Pool clients' delivery latency over the rounds, ms. */
  poolLatency: Summary;
  rssMB: number;
}

export interface ViewersResult {
  without: ViewersSide;
  with: ViewersSide;
  /** Without again, after the session viewers left: how much the machine drifted meanwhile. */
  withoutAgain: ViewersSide;
  sessionConnect: ConnectResult;
  /** Bytes each session viewer received per session change, mean. */
  bytesPerChange: number;
  problems: string[];
}

export async function runViewers(o: ViewersOptions): Promise<ViewersResult> {
  const problems: string[] = [];
  const server = Child.start('server', o.serverScript, serverEnv({ NODE_ENV: 'production', BENCH_DEVICES: String(o.devices), BENCH_SESSIONS: String(o.sessions) }));
  let pools: Child | undefined;
  let lists: Child | undefined;
  try {
    const ready = (await server.notice('ready', 180_000)) as unknown as ServerReady;
    pools = Child.start('pool clients', join(BENCH_DIR, 'clients.ts'));
    lists = Child.start('session clients', join(BENCH_DIR, 'clients.ts'));
    await Promise.all([pools.notice('ready', 60_000), lists.notice('ready', 60_000)]);
    const poolConnect = await pools.call<ConnectResult>('connect', { port: ready.port, count: o.poolViewers, concurrency: 200, timeoutMs: 30_000 }, 180_000);
    if (poolConnect.failed) problems.push(`${poolConnect.failed} pool clients could not connect`);
    o.log(`  ${poolConnect.connected} pool clients connected`);
    let round = 0;

    const measure = async (label: string): Promise<ViewersSide> => {
      await server.call('churnStart', { perSecond: o.changesPerSecond });
      await sleep(1_000); // let the churn settle into its rhythm
      const ticks0 = await server.call<number>('churnTicks');
      const cpu0 = await server.call<number>('cpu');
      const t0 = Date.now();
      await sleep(o.windowMs);
      const cpu1 = await server.call<number>('cpu');
      const wall = Date.now() - t0;
      const latencies: number[] = [];
      for (let i = 0; i < o.rounds; i++) {
        round++;
        const change = await server.call<ChangeResult>('change', { round });
        const result = await pools!.call<RoundResult>('round', { round, at: change.at, timeoutMs: 10_000 }, 40_000);
        await server.call('roundEnd');
        if (result.missing) problems.push(`${label}: ${result.missing} pool deliveries missing in round ${round}`);
        latencies.push(...result.latencies);
        await sleep(150);
      }
      const ticks1 = await server.call<number>('churnStop');
      const side = { cpuPercent: ((cpu1 - cpu0) / wall) * 100, sessionChanges: ticks1 - ticks0, poolLatency: summarise(latencies), rssMB: memoryOf(server.pid).rssMB };
      o.log(`  ${label}: server CPU ${side.cpuPercent.toFixed(1)} % of a core at ${o.changesPerSecond} session changes/s; pool p99 ${side.poolLatency.p99.toFixed(1)} ms`);
      return side;
    };

    const without = await measure('without session viewers');
    const sessionConnect = await lists.call<ConnectResult>('connect', { port: ready.port, count: o.sessionViewers, concurrency: 200, timeoutMs: 30_000, topic: SESSIONS_TOPIC }, 180_000);
    if (sessionConnect.failed) problems.push(`${sessionConnect.failed} session clients could not connect (${sessionConnect.errors.join('; ')})`);
    o.log(`  ${sessionConnect.connected} session-list clients connected (snapshot ${(sessionConnect.snapshotBytes / 1024).toFixed(1)} KiB each)`);
    const bytesBefore = (await lists.call<{ bytes: number }>('status')).bytes;
    const withViewers = await measure('with session viewers');
    const bytesAfter = (await lists.call<{ bytes: number }>('status')).bytes;
    const stats = await server.call<{ dropped: number }>('stats');
    if (stats.dropped) problems.push(`the broker dropped ${stats.dropped} clients as too slow`);
    await lists.call('close');
    await sleep(1_000);
    const withoutAgain = await measure('without session viewers, again');
    return {
      without,
      with: withViewers,
      withoutAgain,
      sessionConnect,
      bytesPerChange: (bytesAfter - bytesBefore) / Math.max(1, sessionConnect.connected) / Math.max(1, withViewers.sessionChanges),
      problems,
    };
  } finally {
    await lists?.stop();
    await pools?.stop();
    await server.stop();
  }
}
