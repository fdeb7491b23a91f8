// `npx tsx test/bench/identity.ts`: what signing in costs (issue 12), in one process over
// the in-memory cluster, whose SubjectAccessReviews follow a made-up RBAC and are counted.
//
// 1. Reviews under load: 1,000 requests/s for three TTLs from 100 people (JSON lists,
//    the farm and pools pages, session pages with their three buttons). Reported: how many
//    SubjectAccessReviews reached the "API server", and the most any one (user, groups,
//    verb, resource, namespace) got within one TTL (the cache's promise: 1).
// 2. Live fan-out: 1,000 /live?topic=farm viewers as one person, then split over 100
//    people who each see a different set of namespaces (the worst case: 100 scoped topics,
//    each rendered once per change). Reported: p99 from a change to its arrival at every
//    viewer, and the ratio of the two.
// Figures go to docs/benchmarks.md with the machine they ran on; nothing here asserts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';
import type { AccessDecision, AccessQuestion, Subject } from '../../src/kube/types.js';
import { makeDevices, statusOf } from './farm.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    users: { type: 'string', default: '100' },
    ttl: { type: 'string', default: '5000' },
    viewers: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '20' },
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
const NAMESPACES = 8;
const ns = (k: number) => `team-${k}`;

/** How many distinct views the people fall into (people i and i + views see the same). */
let views = 128;

/** user-i sees team-0 always and team-k (k ≥ 1) when bit k-1 of i is set: up to 128 distinct views. */
function mayList(user: string, namespace: string): boolean {
  const i = Number(user.split('-')[1]) % views;
  const k = Number(namespace.split('-')[1]);
  return k === 0 || ((i >> (k - 1)) & 1) === 1;
}

class RbacCluster extends MemoryCluster {
  readonly reviews: Array<{ key: string; at: number }> = [];
  override async reviewAccess(subject: Subject, q: AccessQuestion): Promise<AccessDecision> {
    this.reviews.push({ key: `${subject.user}|${[...subject.groups].join(',')}|${q.verb}|${q.resource}|${q.namespace ?? ''}`, at: performance.now() });
    await new Promise((r) => setTimeout(r, 1)); // an apiserver round trip, roughly
    const allowed = q.verb === 'list' || q.verb === 'watch' ? mayList(subject.user, q.namespace ?? '') : q.verb === 'delete' && (q.namespace ?? '').endsWith('0');
    return { allowed, reason: allowed ? 'bench RBAC' : '' };
  }
}

async function farm(): Promise<RbacCluster> {
  const cluster = new RbacCluster({ bookmarkIntervalMs: 0 });
  for (let k = 0; k < NAMESPACES; k++) {
    await cluster.create('templates', ns(k), { metadata: { name: 'pixel' }, spec: { androidVersion: '15', avdProfile: 'pixel_8', emulationBackend: 'cuttlefish' } });
    await cluster.create('pools', ns(k), { metadata: { name: 'farm' }, spec: { templateRef: { name: 'pixel' }, replicas: 40 } });
    await cluster.patch('pools', ns(k), 'farm', { status: statusOf(makeDevices(40)) }, { subresource: 'status' });
    for (let j = 0; j < 25; j++) {
      await cluster.create('sessions', ns(k), { metadata: { name: `run-${j}` }, spec: { poolRef: { name: 'farm' } } });
      await cluster.patch('sessions', ns(k), `run-${j}`, { status: { phase: j % 3 ? 'Succeeded' : 'Running' } }, { subresource: 'status' });
    }
  }
  return cluster;
}

async function start(cluster: RbacCluster) {
  const config = loadConfig({
    argv: ['--demo', '--auth', 'proxy', '--log-level', 'silent', '--max-live-clients-per-address', '100000', '--max-live-clients', '100000'],
    env: { NODE_ENV: 'production' },
  })!;
  const app = await buildApp(config, { cluster, access: { ttlMs: TTL_MS } });
  await app.ready();
  const started = Date.now();
  while (!app.farm.store.syncStatus().synced || app.farm.store.sessionCount() < NAMESPACES * 25) {
    if (Date.now() - started > 20_000) throw new Error('the store did not fill');
    await new Promise((r) => setTimeout(r, 20));
  }
  return app;
}

const p = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};

async function reviewsUnderLoad(): Promise<void> {
  const cluster = await farm();
  const app = await start(cluster);
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

interface Viewer {
  seen: Map<number, number>;
  close(): void;
}

function openViewer(port: number, user: string): Promise<Viewer> {
  return new Promise((resolve, reject) => {
    const seen = new Map<number, number>();
    let tail = '';
    const req = http.get({ host: '127.0.0.1', port, path: '/live?topic=farm', headers: { 'x-forwarded-user': user, accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`viewer ${user}: HTTP ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = performance.now();
        const text = tail + chunk;
        for (const m of text.matchAll(/bench-round-(\d+)-/g)) if (!seen.has(Number(m[1]))) seen.set(Number(m[1]), now);
        tail = text.slice(-64);
      });
      resolve({ seen, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

async function fanout(label: string, userOf: (i: number) => string): Promise<number[]> {
  const cluster = await farm();
  const app = await start(cluster);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const viewers: Viewer[] = [];
  for (let i = 0; i < VIEWERS; i += 50) viewers.push(...(await Promise.all(Array.from({ length: Math.min(50, VIEWERS - i) }, (_, j) => openViewer(port, userOf(i + j))))));
  await new Promise((r) => setTimeout(r, 500));
  const devices = makeDevices(40);
  const sentAt = new Map<number, number>();
  let renderedBefore = 0;
  const cpuBefore = process.cpuUsage();
  const WARMUP = 3;
  for (let round = 0; round < ROUNDS + WARMUP; round++) {
    // A device in team-0 (which everyone sees) goes Unhealthy: the attention strip, summed per scope, changes.
    const i = (round * 7) % devices.length;
    devices[i] = { ...devices[i]!, state: 'Unhealthy', message: `bench-round-${round}-` };
    if (round === WARMUP) renderedBefore = app.farm.broker.stats().fragmentsRendered;
    if (round >= WARMUP) sentAt.set(round, performance.now());
    await cluster.patch('pools', ns(0), 'farm', { status: statusOf(devices) }, { subresource: 'status' });
    await new Promise((r) => setTimeout(r, 300));
    devices[i] = { ...devices[i]!, state: 'Idle', message: '' };
    await cluster.patch('pools', ns(0), 'farm', { status: statusOf(devices) }, { subresource: 'status' });
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const renders = (app.farm.broker.stats().fragmentsRendered - renderedBefore) / (2 * ROUNDS);
  const cpu = process.cpuUsage(cpuBefore);
  const delays: number[] = [];
  let missing = 0;
  for (const v of viewers) {
    for (const [round, at] of sentAt) {
      const got = v.seen.get(round);
      if (got === undefined) missing++;
      else delays.push(got - at);
    }
    v.close();
  }
  const scopes = app.farm.catalog.scopedTopicCount;
  console.log(
    `${label}: ${VIEWERS} viewers, ${scopes} scoped topics; p50 ${p(delays, 0.5).toFixed(1)} ms, p99 ${p(delays, 0.99).toFixed(1)} ms, missing ${missing}; ` +
      `${renders.toFixed(1)} fragments rendered per change; process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms over all rounds (server and viewers)`,
  );
  await app.close();
  return delays;
}

async function main(): Promise<void> {
  if (!args.only || args.only === 'reviews') await reviewsUnderLoad();
  if (!args.only || args.only === 'fanout') {
    console.log(`## Live fan-out of the farm page (${VIEWERS} viewers, ${ROUNDS} changes)`);
    const one = await fanout('one person (user-127)', () => 'user-127');
    await fanout('one person, again (warm process)', () => 'user-127');
    const many = await fanout(`${USERS} people, each a different view`, (i) => `user-${i % USERS}`);
    console.log(`p99 ratio (${USERS} people, ${USERS} views / one): ${(p(many, 0.99) / p(one, 0.99)).toFixed(2)}`);
    views = 10;
    const teams = await fanout(`${USERS} people in 10 teams (10 views)`, (i) => `user-${i % USERS}`);
    console.log(`p99 ratio (${USERS} people, 10 views / one): ${(p(teams, 0.99) / p(one, 0.99)).toFixed(2)}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
