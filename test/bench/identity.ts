// `npx tsx test/bench/identity.ts`: what signing in costs (issue 12). Both parts run the real
// dashboard (--auth proxy, production templates) over the in-memory cluster of
// identity-farm.ts, whose SubjectAccessReviews follow a made-up RBAC and are counted.
//
// 1. Reviews under load (one process): 1,000 requests/s for three TTLs from 100 people (JSON
//    lists, the farm and pools pages, session pages with their three buttons). Reported: how
//    many SubjectAccessReviews reached the "API server", and the most any one (user, groups,
//    verb, resource, namespace) got within one TTL (the cache's promise: 1).
// 2. Live fan-out: 1,000 /live?topic=farm viewers as one person, split over 100 people in 10
//    teams (10 views), and over 100 people who each see a different set of namespaces (the
//    worst case: 100 scoped topics, each rendered once per change). As in the other fan-out
//    benches, the dashboard runs in its own process (identity-server.ts) and the viewers in
//    another (clients.ts, each signing in through the trusted-proxy header), so reading 1,000
//    sockets costs the server nothing. Each run starts a fresh pair of processes per case, all
//    three pairs up at once, and the cases take turns change by change, so none inherits
//    another's heap and whatever the machine does meanwhile (this one's figures move with its
//    load) falls on all of them alike. Reported: p50 and p99 from a change to its arrival at
//    each viewer, per run and pooled per case, and the ratio of the pooled p99s.
// BENCH_PROFILE_DIR: a CPU profile of the server's measured rounds, per run. BENCH_ROUNDS=1:
// each measured round's figures, with the SubjectAccessReviews made so far.
// Figures go to docs/benchmarks.md with the machine they ran on; nothing here asserts.
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ConnectResult, RoundResult } from './clients.js';
import { NAMESPACES, ns, rbacFarm, startDashboard } from './identity-farm.js';
import { BENCH_DIR, Child, sleep } from './proc.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    users: { type: 'string', default: '100' },
    ttl: { type: 'string', default: '5000' },
    viewers: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '20' },
    repeat: { type: 'string', default: '3' },
    only: { type: 'string' },
    /** pages: the mix of pages and JSON below; json: JSON only (cheaper, to reach the rate on a small machine). */
    mix: { type: 'string', default: 'pages' },
  },
});
const RATE = Number(args.rate);
const USERS = Number(args.users);
const TTL_MS = Number(args.ttl);
const VIEWERS = Number(args.viewers);
const ROUNDS = Number(args.rounds);
const REPEAT = Number(args.repeat);

const p = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};

async function reviewsUnderLoad(): Promise<void> {
  const cluster = await rbacFarm(128);
  const app = await startDashboard(cluster, TTL_MS);
  const urls = (k: number, j: number) =>
    args.mix === 'json'
      ? ['/api/v1/sessions?limit=10', '/api/v1/pools', `/api/v1/sessions/${ns(k)}/run-${j}`, '/api/v1/templates']
      : ['/api/v1/sessions', '/api/v1/pools', `/sessions/${ns(k)}/run-${j}`, '/pools', '/', `/api/v1/sessions/${ns(k)}/run-${j}`];
  const durationMs = 3 * TTL_MS;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const t0 = performance.now();
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  while (performance.now() - t0 < durationMs) {
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
    while (sent < due) {
      const n = sent++;
      const user = `user-${n % USERS}`;
      const list = urls(n % NAMESPACES, n % 25);
      const url = list[Math.floor(n / USERS) % list.length]!;
      const at = performance.now();
      const req = app
        .inject({ url, headers: { 'x-forwarded-user': user, accept: url.startsWith('/api/') ? 'application/json' : 'text/html' } })
        .then((res) => {
          latencies.push(performance.now() - at);
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        });
      inflight.add(req);
      void req.finally(() => inflight.delete(req));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(inflight);
  const elapsed = performance.now() - t0;
  // The cache's promise: consecutive reviews of one key are at least a TTL apart.
  const byKey = new Map<string, number[]>();
  for (const r of cluster.reviews) (byKey.get(r.key) ?? byKey.set(r.key, []).get(r.key)!).push(r.at);
  let maxPerTtl = 0;
  let minGap = Infinity;
  for (const times of byKey.values()) {
    for (let i = 0; i < times.length; i++) {
      let inWindow = 1;
      while (i + inWindow < times.length && times[i + inWindow]! - times[i]! < TTL_MS) inWindow++;
      maxPerTtl = Math.max(maxPerTtl, inWindow);
      if (i > 0) minGap = Math.min(minGap, times[i]! - times[i - 1]!);
    }
  }
  console.log(`## Reviews under load, ${args.mix} mix (${os.cpus().length} cores, ${os.cpus()[0]?.model}, Node ${process.version})`);
  console.log(`requests: ${sent} in ${(elapsed / 1000).toFixed(1)} s = ${Math.round(sent / (elapsed / 1000))}/s from ${USERS} users; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  console.log(`latency p50 ${p(latencies, 0.5).toFixed(1)} ms, p99 ${p(latencies, 0.99).toFixed(1)} ms`);
  console.log(`SubjectAccessReviews: ${cluster.reviews.length} for ${byKey.size} distinct (user, groups, verb, resource, namespace); TTL ${TTL_MS} ms over ${(durationMs / TTL_MS).toFixed(0)} TTLs`);
  console.log(`most reviews of one key within one TTL: ${maxPerTtl}; shortest gap between two reviews of one key: ${minGap === Infinity ? 'n/a' : `${(minGap / 1000).toFixed(2)} s`}`);
  console.log(`per request: ${(cluster.reviews.length / sent).toFixed(4)} reviews`);
  await app.close();
}

interface Case {
  name: string;
  label: string;
  views: number;
  users: string[];
}

interface CaseRun {
  server: Child;
  viewers: Child;
  delays: number[];
  missing: number;
  /** Over the measured rounds only (the other cases' turns left out). */
  fragmentsRendered: number;
  cpuMs: number;
}

interface ServerStats {
  fragmentsRendered: number;
  scopedTopics: number;
  cpuMs: number;
}

/** A case's fresh server process and viewers process, its viewers connected. */
async function startCase(c: Case, rep: number): Promise<CaseRun> {
  const server = Child.start(`identity server (${c.name})`, join(BENCH_DIR, 'identity-server.ts'), { BENCH_VIEWS: String(c.views), BENCH_TTL_MS: String(30_000) });
  const viewers = Child.start(`viewers (${c.name})`, join(BENCH_DIR, 'clients.ts'));
  const run: CaseRun = { server, viewers, delays: [], missing: 0, fragmentsRendered: 0, cpuMs: 0 };
  try {
    const { port } = (await server.notice('ready', 120_000)) as unknown as { port: number };
    await viewers.notice('ready', 60_000);
    const connected = await viewers.call<ConnectResult>('connect', { port, count: VIEWERS, concurrency: 50, timeoutMs: 30_000, topic: 'farm', users: c.users }, 180_000);
    if (connected.failed) throw new Error(`${c.name}, run ${rep}: ${connected.failed} viewers could not connect: ${connected.errors.join('; ')}`);
    return run;
  } catch (err) {
    await stopCase(run);
    throw err;
  }
}

async function stopCase(run: CaseRun): Promise<void> {
  await run.viewers.stop();
  await run.server.stop();
}

/**
 * One round of a case: a device in team-0 (which everyone sees) goes Unhealthy, so the
 * attention strip, summed per scope, changes; the viewers' delays are kept past warm-up.
 * Then the device goes back, and the case rests.
 */
async function caseRound(c: Case, run: CaseRun, round: number, measured: boolean): Promise<void> {
  const before = await run.server.call<ServerStats>('stats');
  const { at, reviews } = await run.server.call<{ at: number; reviews: number }>('change', { round, unhealthy: true });
  const result = await run.viewers.call<RoundResult>('round', { round, at, timeoutMs: 10_000 }, 40_000);
  if (measured) {
    run.delays.push(...result.latencies);
    run.missing += result.missing;
    if (process.env.BENCH_ROUNDS) console.log(`    ${c.name} round ${round}: p50 ${p(result.latencies, 0.5).toFixed(1)} ms, max ${p(result.latencies, 1).toFixed(1)} ms; SubjectAccessReviews so far ${reviews}`);
  }
  await sleep(300);
  await run.server.call('change', { round, unhealthy: false });
  await sleep(200);
  if (measured) {
    const after = await run.server.call<ServerStats>('stats');
    run.fragmentsRendered += after.fragmentsRendered - before.fragmentsRendered;
    run.cpuMs += after.cpuMs - before.cpuMs;
  }
}

async function fanout(): Promise<void> {
  const people = Array.from({ length: USERS }, (_, i) => `user-${i}`);
  // The first case is the baseline the others are compared with.
  const cases: Case[] = [
    { name: 'one', label: 'one person (user-127, sees everything)', views: 128, users: ['user-127'] },
    { name: 'teams', label: `${USERS} people in 10 teams (10 views)`, views: 10, users: people },
    { name: 'views', label: `${USERS} people, each a different view`, views: 128, users: people },
  ];
  console.log(
    `## Live fan-out of the farm page (${VIEWERS} viewers per case, ${ROUNDS} changes per case and run, the cases taking turns change by change; ${REPEAT} runs; ${os.cpus().length} cores, Node ${process.version}, load ${os.loadavg()[0]!.toFixed(2)})`,
  );
  const pooled = cases.map(() => [] as number[]);
  const p99s = cases.map(() => [] as number[]);
  const WARMUP = 3;
  for (let rep = 1; rep <= REPEAT; rep++) {
    // Every case's processes are up at once, and the cases take turns change by change (in a
    // rotating order): whatever the machine does meanwhile falls on all of them alike.
    const runs: CaseRun[] = [];
    try {
      for (const c of cases) runs.push(await startCase(c, rep));
      await sleep(500);
      for (let round = 0; round < ROUNDS + WARMUP; round++) {
        if (round === WARMUP) for (const run of runs) await run.server.call<boolean>('profileStart');
        for (let k = 0; k < cases.length; k++) {
          const i = (round + k) % cases.length;
          await caseRound(cases[i]!, runs[i]!, round, round >= WARMUP);
        }
      }
      for (const [i, c] of cases.entries()) {
        const run = runs[i]!;
        const after = await run.server.call<ServerStats>('stats');
        if (process.env.BENCH_PROFILE_DIR) console.log(`  server profile of the measured rounds: ${await run.server.call<string>('profileStop', { name: `identity-${c.name}-${rep}` })}`);
        pooled[i]!.push(...run.delays);
        p99s[i]!.push(p(run.delays, 0.99));
        console.log(
          `run ${rep}, ${c.label}: ${after.scopedTopics} scoped topics; p50 ${p(run.delays, 0.5).toFixed(1)} ms, p99 ${p(run.delays, 0.99).toFixed(1)} ms, missing ${run.missing}; ` +
            `${(run.fragmentsRendered / (2 * ROUNDS)).toFixed(1)} fragments rendered and ${(run.cpuMs / (2 * ROUNDS)).toFixed(1)} ms of server CPU per change (load ${os.loadavg()[0]!.toFixed(2)})`,
        );
      }
    } finally {
      for (const run of runs) await stopCase(run);
    }
  }
  const base = p(pooled[0]!, 0.99);
  for (const [i, c] of cases.entries()) {
    const ratio = p(pooled[i]!, 0.99) / base;
    console.log(`pooled, ${c.label}: p50 ${p(pooled[i]!, 0.5).toFixed(1)} ms, p99 ${p(pooled[i]!, 0.99).toFixed(1)} ms${i ? ` (${ratio.toFixed(2)}× one person's)` : ''}; p99 per run ${p99s[i]!.map((x) => x.toFixed(1)).join(', ')} ms`);
  }
}

async function main(): Promise<void> {
  if (!args.only || args.only === 'reviews') await reviewsUnderLoad();
  if (!args.only || args.only === 'fanout') await fanout();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
