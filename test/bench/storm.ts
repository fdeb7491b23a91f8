// A connect storm: 2,000 pages of a 500-device pool connecting at once (a fleet coming back
// after a deploy) while viewers already connected watch the same pool. One server, two
// client processes, both sides in one run:
//   1. the viewers' delivery latency over device-change rounds, without a storm;
//   2. the same rounds while the storm connects (all of it in flight at once), and the time
//      until every storm client has its whole snapshot.
// Also the bytes on the wire of the pool page and its JSON, raw and compressed.
import http from 'node:http';
import { join } from 'node:path';
import type { ConnectResult, RoundResult } from './clients.js';
import { NAMESPACE, POOL } from './farm.js';
import { BENCH_DIR, Child, memoryOf, serverEnv, sleep } from './proc.js';
import type { ChangeResult, ServerReady } from './server.js';
import { summarise, type Summary } from './stats.js';

export interface StormOptions {
  serverScript: string;
  devices: number;
  viewers: number;
  storm: number;
  rounds: number;
  log: (line: string) => void;
}

export interface WireFigure {
  what: string;
  path: string;
  identity: number;
  gzip: number;
  br: number;
}

export interface StormResult {
  devices: number;
  viewers: number;
  storm: ConnectResult;
  without: Summary;
  during: Summary;
  /** Rounds measured while the storm was connecting. */
  roundsDuring: number;
  /** Page snapshots rendered during the storm, and connects that shared another's. */
  fragmentsRendered: number;
  snapshotsShared: number;
  rssMB: number;
  wire: WireFigure[];
  problems: string[];
}

interface BrokerCounters {
  fragmentsRendered: number;
  snapshotsShared: number;
  dropped: number;
}

export async function runStorm(o: StormOptions): Promise<StormResult> {
  const problems: string[] = [];
  const server = Child.start('server', o.serverScript, serverEnv({ NODE_ENV: 'production', BENCH_DEVICES: String(o.devices) }));
  let viewers: Child | undefined;
  let storm: Child | undefined;
  try {
    const ready = (await server.notice('ready', 180_000)) as unknown as ServerReady;
    viewers = Child.start('viewers', join(BENCH_DIR, 'clients.ts'));
    storm = Child.start('storm clients', join(BENCH_DIR, 'clients.ts'));
    await Promise.all([viewers.notice('ready', 60_000), storm.notice('ready', 60_000)]);
    const connected = await viewers.call<ConnectResult>('connect', { port: ready.port, count: o.viewers, concurrency: 200, timeoutMs: 30_000 }, 180_000);
    if (connected.failed) problems.push(`${connected.failed} viewers could not connect`);
    o.log(`  ${connected.connected} viewers connected`);

    let round = 0;
    const oneRound = async (): Promise<number[]> => {
      round++;
      const change = await server.call<ChangeResult>('change', { round });
      const result = await viewers!.call<RoundResult>('round', { round, at: change.at, timeoutMs: 10_000 }, 40_000);
      await server.call('roundEnd');
      if (result.missing) problems.push(`${result.missing} viewer deliveries missing in round ${round}`);
      return result.latencies;
    };
    // Warm-up, then the side without a storm, at the same pace as during it.
    for (let i = 0; i < 3; i++) await oneRound();
    const without: number[] = [];
    for (let i = 0; i < o.rounds; i++) {
      without.push(...(await oneRound()));
      await sleep(50);
    }

    const before = await server.call<BrokerCounters>('stats');
    const profiling = await server.call<boolean>('profileStart');
    let stormDone = false;
    const stormConnect = storm.call<ConnectResult>('connect', { port: ready.port, count: o.storm, concurrency: o.storm, timeoutMs: 30_000 }, 120_000).finally(() => {
      stormDone = true;
    });
    const during: number[] = [];
    let roundsDuring = 0;
    // Rounds back to back until every storm client has its snapshot (at least a few).
    while (!stormDone || roundsDuring < 3) {
      during.push(...(await oneRound()));
      roundsDuring++;
      await sleep(50);
    }
    const stormResult = await stormConnect;
    if (profiling) o.log(`  server profile of the storm: ${await server.call<string>('profileStop', { name: `storm-${o.storm}` })}`);
    if (stormResult.failed) problems.push(`${stormResult.failed} storm clients could not connect (${stormResult.errors.join('; ')})`);
    const after = await server.call<BrokerCounters>('stats');
    if (after.dropped) problems.push(`the broker dropped ${after.dropped} clients as too slow`);
    o.log(`  storm of ${stormResult.connected}: every snapshot in ${(stormResult.ms / 1000).toFixed(2)} s; viewers' p99 ${summarise(without).p99.toFixed(1)} ms without, ${summarise(during).p99.toFixed(1)} ms during`);

    const wire = await wireFigures(ready.port);
    return {
      devices: o.devices,
      viewers: connected.connected,
      storm: stormResult,
      without: summarise(without),
      during: summarise(during),
      roundsDuring,
      fragmentsRendered: after.fragmentsRendered - before.fragmentsRendered,
      snapshotsShared: after.snapshotsShared - before.snapshotsShared,
      rssMB: memoryOf(server.pid).rssMB,
      wire,
      problems,
    };
  } finally {
    await storm?.stop();
    await viewers?.stop();
    await server.stop();
  }
}

/** Bytes of the body as sent, for each Accept-Encoding. */
async function wireFigures(port: number): Promise<WireFigure[]> {
  const base = `/pools/${NAMESPACE}/${POOL}`;
  const rows = [
    { what: 'pool page (HTML)', path: base, accept: 'text/html' },
    { what: 'pool JSON', path: `/api/v1${base}`, accept: 'application/json' },
  ];
  const out: WireFigure[] = [];
  for (const row of rows) {
    const size = (encoding: string) => bodyBytes(port, row.path, row.accept, encoding);
    out.push({ what: row.what, path: row.path, identity: await size('identity'), gzip: await size('gzip'), br: await size('br') });
  }
  return out;
}

function bodyBytes(port: number, path: string, accept: string, encoding: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { accept, 'accept-encoding': encoding } }, (res) => {
      let bytes = 0;
      if (res.statusCode !== 200) reject(new Error(`GET ${path} answered ${res.statusCode}`));
      const want = encoding === 'identity' ? undefined : encoding;
      if (res.headers['content-encoding'] !== want) reject(new Error(`GET ${path} with ${encoding}: content-encoding ${res.headers['content-encoding'] ?? 'none'}`));
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve(bytes));
    });
    req.on('error', reject);
  });
}
