// `npm run bench`: the live fan-out, page-render, sessions-list, viewers and connect-storm
// benchmarks of docs/benchmarks.md.
// Prints what it measured and whether the targets were met. Exits 1 when the bench itself
// failed (a process crashed, clients could not connect, events went missing, a timeout),
// never because a target was missed: that is reported, not hidden behind an exit code.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { compileServer } from './build.js';
import { runEvents, type EventsResult } from './events.js';
import { runFanout, type FanoutResult } from './fanout.js';
import { runInsights, type InsightsResult } from './insights.js';
import { startBenchControlPlane } from './kube.js';
import { buildAssets } from '../cluster/assets.js';
import { BENCH_DIR, killChildren } from './proc.js';
import { runRender, type RenderResult } from './render.js';
import { runSessions, type SessionsResult } from './sessions.js';
import { runStorm, type StormResult } from './storm.js';
import { runViewers, type ViewersResult } from './viewers.js';
import { mb, ms, table, type Summary } from './stats.js';

const TARGETS = { insightsRenderMs: 20, insightsChangeMs: 1, fanoutClients: 10_000, p99Ms: 250, rssMB: 400, renderMs: 5, viewersCpuPercent: 20, viewersP99Ratio: 1.25, stormP99RiseMs: 250, stormSnapshotsS: 2 };

const HELP = `Usage: npm run bench -- [options]

  --clients <n,n…>       SSE clients per fan-out run (default 1000,10000)
  --changes <n>          measured device changes per run (default 20)
  --warmup <n>           warm-up changes, not counted (default 3)
  --pool-devices <n>     devices in the pool the clients watch (default 100)
  --concurrency <n>      clients connecting at once (default 200)
  --render-devices <n>   devices in the rendered pool page (default 1000)
  --renders <n>          measured renders per method (default 300)
  --render-warmup <n>    renders before measuring (default 50)
  --no-dev-render        skip the development-mode (no template cache) render run
  --sessions <n>         TestSessions in one pool for the sessions-list bench (default 50000)
  --viewers <n>          /sessions viewers and pool viewers in the viewers bench (default 1000)
  --storm <n>            clients connecting at once in the connect-storm bench (default 2000)
  --storm-devices <n>    devices in the pool of the connect-storm bench (default 500)
  --storm-viewers <n>    viewers already connected during the storm (default 1000)
  --insights-renders <n> measured /insights renders per window and case (default 200)
  --events <n>           unrelated Events in the Events bench (default 5000)
  --kube-clients <n,n…>  SSE clients per fan-out run through the real apiserver (default 10000)
  --only <fanout|fanout-kube|render|sessions|viewers|storm|events|insights> run one part
  --tsx-server           run the server under tsx instead of compiled (adds ~60 MB RSS)
  --markdown             print the result tables as Markdown
  --json <file>          also write every figure to a JSON file
  --timeout <s>          give up (exit 1) after this long (default 900)
  --help

Environment, for experiments (each is printed with the results):
  BENCH_SERVER_NODE_OPTIONS   NODE_OPTIONS of the server, e.g. --max-semi-space-size=16
  BENCH_VIEWS                 a views folder to use instead of views/ (try template changes)
  BENCH_PROFILE_DIR           write a CPU profile of the server's measured part there (fan-out rounds, the storm)
  BENCH_HEAP_SNAPSHOT_DIR     write a heap snapshot of the server once the clients are connected
  BENCH_BACKLOG               the server's listen backlog (production's 4096 by default; 511 is Node's)`;

interface Options {
  clients: number[];
  changes: number;
  warmup: number;
  poolDevices: number;
  concurrency: number;
  renderDevices: number;
  renders: number;
  renderWarmup: number;
  devRender: boolean;
  only: 'fanout' | 'fanout-kube' | 'render' | 'sessions' | 'viewers' | 'storm' | 'events' | 'insights' | undefined;
  insightsRenders: number;
  kubeClients: number[];
  events: number;
  storm: number;
  stormDevices: number;
  stormViewers: number;
  viewers: number;
  sessions: number;
  tsxServer: boolean;
  markdown: boolean;
  json: string | undefined;
  timeoutS: number;
}

function options(): Options | null {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      clients: { type: 'string', default: '1000,10000' },
      'kube-clients': { type: 'string', default: '10000' },
      changes: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      'pool-devices': { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '200' },
      'render-devices': { type: 'string', default: '1000' },
      renders: { type: 'string', default: '300' },
      'render-warmup': { type: 'string', default: '50' },
      'no-dev-render': { type: 'boolean', default: false },
      only: { type: 'string' },
      'insights-renders': { type: 'string', default: '200' },
      sessions: { type: 'string', default: '50000' },
      events: { type: 'string', default: '5000' },
      viewers: { type: 'string', default: '1000' },
      storm: { type: 'string', default: '2000' },
      'storm-devices': { type: 'string', default: '500' },
      'storm-viewers': { type: 'string', default: '1000' },
      'tsx-server': { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      json: { type: 'string' },
      timeout: { type: 'string', default: '900' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  const int = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${raw}: expected a whole number ≥ ${min}`);
    return n;
  };
  const parts = ['fanout', 'fanout-kube', 'render', 'sessions', 'viewers', 'storm', 'events', 'insights'];
  if (values.only !== undefined && !parts.includes(values.only)) throw new Error(`--only ${values.only}: expected one of ${parts.join(', ')}`);
  return {
    clients: values.clients.split(',').map((c) => int('clients', c.trim(), 1)),
    kubeClients: values['kube-clients'].split(',').map((c) => int('kube-clients', c.trim(), 1)),
    changes: int('changes', values.changes, 1),
    warmup: int('warmup', values.warmup, 0),
    poolDevices: int('pool-devices', values['pool-devices'], 1),
    concurrency: int('concurrency', values.concurrency, 1),
    renderDevices: int('render-devices', values['render-devices'], 1),
    renders: int('renders', values.renders, 1),
    renderWarmup: int('render-warmup', values['render-warmup'], 0),
    devRender: !values['no-dev-render'],
    only: values.only as Options['only'],
    insightsRenders: int('insights-renders', values['insights-renders'], 1),
    sessions: int('sessions', values.sessions, 1),
    events: int('events', values.events, 0),
    viewers: int('viewers', values.viewers, 1),
    storm: int('storm', values.storm, 1),
    stormDevices: int('storm-devices', values['storm-devices'], 1),
    stormViewers: int('storm-viewers', values['storm-viewers'], 1),
    tsxServer: values['tsx-server'],
    markdown: values.markdown,
    json: values.json,
    timeoutS: int('timeout', values.timeout, 1),
  };
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGB: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadBefore: os.loadavg(),
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  let opts: Options | null;
  try {
    opts = options();
  } catch (err) {
    log(`bench: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (!opts) {
    log(HELP);
    return 0;
  }
  const o = opts;
  const watchdog = setTimeout(() => {
    log(`bench: FAILED: still running after ${o.timeoutS} s (--timeout); stopping`);
    killChildren();
    process.exit(1);
  }, o.timeoutS * 1000);

  const m = machine();
  const started = new Date();
  log(`DroidFarm Dashboard bench, ${started.toISOString()}`);
  log(`${m.cpu}, ${m.cores} cores, ${m.memoryGB.toFixed(1)} GiB, ${m.kernel}, Node ${m.node}, load average ${m.loadBefore.map((l) => l.toFixed(2)).join(' ')}`);

  const failures: string[] = [];
  const fanouts: FanoutResult[] = [];
  // The server runs with NODE_ENV=production, which refuses to start without the built CSS
  // and vendored scripts (and the page sizes measured include them): build them, as the tests do.
  await buildAssets();
  const renders: RenderResult[] = [];

  let serverScript = join(BENCH_DIR, 'server.ts');
  if (!o.tsxServer && o.only !== 'sessions' && o.only !== 'events' && o.only !== 'insights') {
    log('compiling the server (tsc), so that it runs as in production…');
    try {
      const compiled = await compileServer();
      serverScript = compiled.script;
      if (compiled.diagnostics) log(`  tsc reported type errors (the code was emitted and is used):\n${compiled.diagnostics}`);
    } catch (err) {
      log(`bench: FAILED: ${(err as Error).message}`);
      killChildren();
      return 1;
    }
  }

  if (o.only === undefined || o.only === 'fanout') {
    for (const clients of o.clients) {
      log(`fan-out: ${clients} clients, pool of ${o.poolDevices} devices, ${o.changes} changes after ${o.warmup} warm-up`);
      try {
        const r = await runFanout({ serverScript, clients, changes: o.changes, warmup: o.warmup, devices: o.poolDevices, concurrency: o.concurrency, roundTimeoutMs: 10_000, log });
        fanouts.push(r);
        for (const p of r.problems) failures.push(`fan-out ${clients}: ${p}`);
        log(`  p50 ${ms(r.latency.p50)} ms, p99 ${ms(r.latency.p99)} ms, RSS ${mb(r.memory.afterFanout.rssMB)} MB`);
      } catch (err) {
        failures.push(`fan-out ${clients}: ${(err as Error).message}`);
        log(`  FAILED: ${(err as Error).message}`);
      }
    }
  }
  const kubeFanouts: FanoutResult[] = [];
  let kubeVersions: { kubeApiserver: string; etcd: string } | undefined;
  if (o.only === undefined || o.only === 'fanout-kube') {
    log('fan-out through a real kube-apiserver (watch cache on): starting the test control plane…');
    try {
      const cp = await startBenchControlPlane(log);
      kubeVersions = { kubeApiserver: cp.versions.kubeApiserver, etcd: cp.versions.etcd };
      try {
        for (const clients of o.kubeClients) {
          await cp.fresh();
          log(`fan-out (kube): ${clients} clients, pool of ${o.poolDevices} devices, ${o.changes} changes after ${o.warmup} warm-up`);
          const r = await runFanout({ serverScript, clients, changes: o.changes, warmup: o.warmup, devices: o.poolDevices, concurrency: o.concurrency, roundTimeoutMs: 10_000, log, kubeconfig: cp.adminKubeconfig });
          kubeFanouts.push(r);
          for (const p of r.problems) failures.push(`fan-out (kube) ${clients}: ${p}`);
          log(`  end to end p50 ${ms(r.latency.p50)} ms, p99 ${ms(r.latency.p99)} ms; dashboard's share p50 ${ms(r.dashboardShare!.p50)} ms, p99 ${ms(r.dashboardShare!.p99)} ms`);
        }
      } finally {
        await cp.stop();
      }
    } catch (err) {
      failures.push(`fan-out (kube): ${(err as Error).message}`);
      log(`  FAILED: ${(err as Error).message}`);
    }
  }
  if (o.only === undefined || o.only === 'render') {
    const runs = [{ production: true, warmup: o.renderWarmup, count: o.renders }];
    // Without NODE_ENV=production Eta reads and compiles every template on every render.
    if (o.devRender) runs.push({ production: false, warmup: Math.min(o.renderWarmup, 10), count: Math.min(o.renders, 50) });
    for (const run of runs) {
      const mode = run.production ? 'production' : 'development';
      log(`render: GET /pools/:ns/:name, ${o.renderDevices} devices, ${mode} mode, ${run.count} renders after ${run.warmup}`);
      try {
        const r = await runRender({ serverScript, devices: o.renderDevices, ...run, log });
        renders.push(r);
        log(`  server p50 ${ms(r.httpServer.p50)} ms, p99 ${ms(r.httpServer.p99)} ms`);
      } catch (err) {
        failures.push(`render (${mode}): ${(err as Error).message}`);
        log(`  FAILED: ${(err as Error).message}`);
      }
    }
  }
  let sessions: SessionsResult | undefined;
  if (o.only === undefined || o.only === 'sessions') {
    log(`sessions list: ${o.sessions} TestSessions in one pool, on a real kube-apiserver`);
    try {
      sessions = await runSessions({ sessions: o.sessions, concurrency: 32, repeats: 5, log });
      log(`  dashboard page p50 ${ms(sessions.dashboardPage.p50)} ms, kubectl page p50 ${ms(sessions.kubectlPage.p50)} ms`);
    } catch (err) {
      failures.push(`sessions: ${(err as Error).message}`);
      log(`  FAILED: ${(err as Error).message}`);
    }
  }
  let events: EventsResult | undefined;
  if (o.only === undefined || o.only === 'events') {
    log(`events: ${o.events} unrelated Events beside the farm's own, on a real kube-apiserver`);
    try {
      events = await runEvents({ unrelated: o.events, concurrency: 32, log });
    } catch (err) {
      failures.push(`events: ${(err as Error).message}`);
      log(`  FAILED: ${(err as Error).message}`);
    }
  }
  let viewers: ViewersResult | undefined;
  if (o.only === undefined || o.only === 'viewers') {
    log(`viewers: ${o.viewers} /sessions viewers beside ${o.viewers} pool viewers, 200 sessions ticking 5 times a second`);
    try {
      viewers = await runViewers({ serverScript, poolViewers: o.viewers, sessionViewers: o.viewers, sessions: 200, devices: o.poolDevices, changesPerSecond: 5, windowMs: 10_000, rounds: o.changes, log });
      for (const p of viewers.problems) failures.push(`viewers: ${p}`);
    } catch (err) {
      failures.push(`viewers: ${(err as Error).message}`);
      log(`  FAILED: ${(err as Error).message}`);
    }
  }
  let storm: StormResult | undefined;
  if (o.only === undefined || o.only === 'storm') {
    log(`storm: ${o.storm} clients connecting at once to a pool of ${o.stormDevices} devices beside ${o.stormViewers} viewers`);
    try {
      storm = await runStorm({ serverScript, devices: o.stormDevices, viewers: o.stormViewers, storm: o.storm, rounds: o.changes, log });
      for (const p of storm.problems) failures.push(`storm: ${p}`);
    } catch (err) {
      failures.push(`storm: ${(err as Error).message}`);
      log(`  FAILED: ${(err as Error).message}`);
    }
  }
  let insights: InsightsResult | undefined;
  if (o.only === undefined || o.only === 'insights') {
    log(`insights: ${o.sessions} finished TestSessions over 7 days in 5 pools of 40 devices, in process`);
    try {
      insights = await runInsights({ sessions: o.sessions, renders: o.insightsRenders, changes: 10_000, log });
    } catch (err) {
      failures.push(`insights: ${(err as Error).message}`);
      log(`  FAILED: ${(err as Error).message}`);
    }
  }
  clearTimeout(watchdog);
  const loadAfter = os.loadavg();

  const out: string[] = [''];
  const nodes = [...new Set([...fanouts.map((f) => f.node), ...renders.map((r) => r.node)])];
  out.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB.toFixed(1)} GiB RAM, ${m.kernel}`);
  out.push(`Node: ${nodes.join(', ') || m.node} (bench driver ${m.node}); server ${o.tsxServer ? 'under tsx' : 'compiled by tsc, as in production'}`);
  out.push(`Load average (1/5/15 min): before ${m.loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  out.push(`Run: ${started.toISOString()}, ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`);
  // Experiments change what is measured: say so next to the figures.
  for (const knob of ['BENCH_SERVER_NODE_OPTIONS', 'BENCH_VIEWS', 'BENCH_PROFILE_DIR', 'BENCH_HEAP_SNAPSHOT_DIR', 'BENCH_BACKLOG']) {
    if (process.env[knob]) out.push(`${knob}=${process.env[knob]}`);
  }
  if (fanouts.length) {
    out.push(
      '',
      `Fan-out: one device change to N SSE clients of one pool (${o.poolDevices} devices), ${o.changes} changes after ${o.warmup} warm-up.`,
      'Latency: cluster write → the client process has read the event bytes. "server wrote": cluster write → the server handed the last client its bytes.',
    );
    out.push(
      table(
        ['clients', 'connect s', 'p50 ms', 'p99 ms', 'max ms', 'server wrote p50 ms', 'server wrote max ms', 'write→store p50 ms', 'server CPU/change ms', 'client CPU/change ms'],
        fanouts.map((f) => [
          String(f.clients),
          (f.connect.ms / 1000).toFixed(1),
          ms(f.latency.p50),
          ms(f.latency.p99),
          ms(f.latency.max),
          ms(f.serverWritten.p50),
          ms(f.serverWritten.max),
          ms(f.toStore.p50),
          ms(f.serverCpu.p50),
          ms(f.clientCpu.p50),
        ]),
        o.markdown,
      ),
    );
    out.push('', 'Server memory (RSS from /proc/<pid>/status; heap from process.memoryUsage()):');
    out.push(
      table(
        ['clients', 'RSS idle MB', 'RSS connected MB', 'RSS after fan-out MB', 'RSS peak MB', 'heap used / total MB (after fan-out)', 'RSS after full GC MB', 'heap used after GC MB'],
        fanouts.map((f) => [
          String(f.clients),
          mb(f.memory.idle.rssMB),
          mb(f.memory.connected.rssMB),
          mb(f.memory.afterFanout.rssMB),
          mb(f.memory.afterFanout.peakMB),
          `${mb(f.heap.afterFanout.heapUsed / 2 ** 20)} / ${mb(f.heap.afterFanout.heapTotal / 2 ** 20)}`,
          mb(f.memory.afterGc.rssMB),
          mb(f.heap.afterGc.heapUsed / 2 ** 20),
        ]),
        o.markdown,
      ),
    );
  }
  if (kubeFanouts.length) {
    out.push(
      '',
      `Fan-out through a real kube-apiserver ${kubeVersions?.kubeApiserver ?? ''} (etcd ${kubeVersions?.etcd ?? ''}, watch cache on): one device status patch to N SSE clients of one pool (${o.poolDevices} devices), ${o.changes} changes after ${o.warmup} warm-up.`,
      "End to end: status patch sent → the client process has read the event. Watch: patch sent → the dashboard read its watch event. Dashboard's share: its watch event → each client has read it. Watch → last write: its watch event → the server handed the last client its bytes (the rest of the share is the client process reading 10,000 sockets).",
    );
    out.push(
      table(
        ['clients', 'connect s', 'e2e p50 ms', 'e2e p99 ms', 'e2e max ms', 'watch p50 ms', 'watch p99 ms', "dashboard's share p50 ms", "dashboard's share p99 ms", "dashboard's share max ms", 'watch → last write p50 ms', 'watch → last write max ms', 'server CPU/change ms'],
        kubeFanouts.map((f) => [
          String(f.clients),
          (f.connect.ms / 1000).toFixed(1),
          ms(f.latency.p50),
          ms(f.latency.p99),
          ms(f.latency.max),
          ms(f.toWatch!.p50),
          ms(f.toWatch!.p99),
          ms(f.dashboardShare!.p50),
          ms(f.dashboardShare!.p99),
          ms(f.dashboardShare!.max),
          ms(f.watchToWritten!.p50),
          ms(f.watchToWritten!.max),
          ms(f.serverCpu.p50),
        ]),
        o.markdown,
      ),
    );
    out.push(`  server RSS after the fan-out: ${kubeFanouts.map((f) => `${f.clients} clients ${mb(f.memory.afterFanout.rssMB)} MB`).join(', ')}`);
  }
  if (renders.length) {
    const r0 = renders[0]!;
    out.push('', `Page render: GET /pools/:ns/:name with ${r0.devices} devices (${(r0.bytes / 1024).toFixed(0)} KiB of HTML), after warm-up`);
    const rows: string[][] = [];
    for (const r of renders) {
      const mode = r.production ? 'production' : 'development';
      rows.push([mode, 'app.inject (in process)', String(r.inject.count), ms(r.inject.p50), ms(r.inject.p99), ms(r.inject.mean), ms(r.injectCpuPerRender)]);
      rows.push([mode, 'HTTP, server time', String(r.httpServer.count), ms(r.httpServer.p50), ms(r.httpServer.p99), ms(r.httpServer.mean), '']);
      rows.push([mode, 'HTTP, client to last byte', String(r.httpClient.count), ms(r.httpClient.p50), ms(r.httpClient.p99), ms(r.httpClient.mean), '']);
    }
    out.push(table(['mode', 'measured as', 'n', 'p50 ms', 'p99 ms', 'mean ms', 'CPU ms/render'], rows, o.markdown));
  }

  if (insights) {
    const x = insights;
    out.push('', `Insights: ${x.sessions} TestSessions over 7 days, ${x.pools} pools; GET /insights by app.inject in process (${(x.bytes / 1024).toFixed(0)} KiB at 24 h), production templates`);
    const row = (what: string, s: Summary, target: string) => [what, String(s.count), ms(s.p50), ms(s.p99), ms(s.max), target];
    out.push(
      table(
        ['what', 'n', 'p50', 'p99', 'max', 'target'],
        [
          ...(Object.entries(x.render) as Array<[string, Summary]>).map(([k, s]) => row(`render ${k} (ms)`, s, `p50 < ${TARGETS.insightsRenderMs} ms`)),
          ...(Object.entries(x.renderCpu) as Array<[string, Summary]>).map(([k, s]) => row(`render ${k}, CPU (ms)`, s, '')),
          row('one change, insights only (µs)', x.changeInsightsUs, `p50 < ${TARGETS.insightsChangeMs * 1000} µs`),
          row('one change, whole store (µs)', x.changeStoreUs, ''),
        ],
        o.markdown,
      ),
    );
  }
  if (sessions) {
    const s = sessions;
    out.push(
      '',
      `Sessions list: ${s.sessions} TestSessions in pool farm (kube-apiserver ${s.versions.kubeApiserver}, etcd ${s.versions.etcd}); created in ${s.createSeconds.toFixed(0)} s, listed by the dashboard in ${s.syncSeconds.toFixed(1)} s`,
    );
    const row = (what: string, how: string, x: Summary) => [what, how, String(x.count), ms(x.p50), ms(x.p99), ms(x.mean)];
    out.push(
      table(
        ['what', 'how', 'n', 'p50 ms', 'p99 ms', 'mean ms'],
        [
          row('one page of 500', 'dashboard GET /api/v1/sessions?pool=farm&limit=500', s.dashboardPage),
          row('one page of 500', 'apiserver GET …/testsessions?limit=500 (HTTP, no kubectl)', s.apiserverPage),
          row('one page of 500', 'kubectl get --raw …/testsessions?limit=500', s.kubectlPage),
          row(`all ${s.dashboardAllCount}`, 'dashboard, every page of 500 (continue)', s.dashboardAll),
          row(`all ${s.kubectlAllCount}`, 'kubectl get testsessions -o json (chunks of 500)', s.kubectlAll),
        ],
        o.markdown,
      ),
    );
    out.push(`  ratio, one page: kubectl / dashboard = ${(s.kubectlPage.p50 / s.dashboardPage.p50).toFixed(1)}×, apiserver / dashboard = ${(s.apiserverPage.p50 / s.dashboardPage.p50).toFixed(1)}×; all: kubectl / dashboard = ${(s.kubectlAll.p50 / s.dashboardAll.p50).toFixed(1)}×`);
  }

  if (events) {
    const e = events;
    out.push(
      '',
      `Events: ${e.unrelated} Events about other pods, Deployments, Nodes and DeviceTemplates, beside 3–4 about the farm (kube-apiserver ${e.versions.kubeApiserver}); created in ${e.createSeconds.toFixed(0)} s. Heap added: heapUsed after a full GC once synced, minus before starting, in the bench process.`,
    );
    out.push(
      table(
        ['what', 'Events held', 'heap added MB'],
        [
          ['dashboard started before the unrelated Events', String(e.before.storeEvents), e.before.heapMB.toFixed(1)],
          ['the same dashboard once its watches brought them', String(e.liveEvents), ''],
          ['dashboard started after them', String(e.after.storeEvents), e.after.heapMB.toFixed(1)],
          ['the Events watch without selectors (before point 4)', String(e.unfiltered.storeEvents), e.unfiltered.heapMB.toFixed(1)],
        ],
        o.markdown,
      ),
    );
  }

  if (viewers) {
    const v = viewers;
    out.push(
      '',
      `Viewers: ${o.viewers} pool-page clients (pool of ${o.poolDevices} devices), then ${v.sessionConnect.connected} /sessions clients more; 200 sessions, 5 changes/s; CPU over 10 s, pool latency over ${o.changes} device changes.`,
    );
    out.push(
      table(
        ['side', 'server CPU % of a core', 'session changes', 'pool p50 ms', 'pool p99 ms', 'RSS MB'],
        [
          ['without /sessions viewers', v.without.cpuPercent.toFixed(1), String(v.without.sessionChanges), ms(v.without.poolLatency.p50), ms(v.without.poolLatency.p99), mb(v.without.rssMB)],
          [`with ${v.sessionConnect.connected} /sessions viewers`, v.with.cpuPercent.toFixed(1), String(v.with.sessionChanges), ms(v.with.poolLatency.p50), ms(v.with.poolLatency.p99), mb(v.with.rssMB)],
          ['without them again', v.withoutAgain.cpuPercent.toFixed(1), String(v.withoutAgain.sessionChanges), ms(v.withoutAgain.poolLatency.p50), ms(v.withoutAgain.poolLatency.p99), mb(v.withoutAgain.rssMB)],
        ],
        o.markdown,
      ),
    );
    out.push(`  each /sessions viewer got ${v.bytesPerChange.toFixed(0)} bytes per session change; snapshot ${(v.sessionConnect.snapshotBytes / 1024).toFixed(1)} KiB`);
  }

  if (storm) {
    const st = storm;
    out.push(
      '',
      `Connect storm: ${st.storm.connected} clients connecting at once (all in flight together) to a pool of ${st.devices} devices, beside ${st.viewers} viewers already connected; viewers' latency over ${o.changes} device changes without the storm, and over the ${st.roundsDuring} changes made back to back while it connected.`,
    );
    out.push(
      table(
        ['side', 'rounds', 'viewers p50 ms', 'viewers p99 ms', 'viewers max ms'],
        [
          ['without a storm', String(o.changes), ms(st.without.p50), ms(st.without.p99), ms(st.without.max)],
          [`during the storm of ${st.storm.connected}`, String(st.roundsDuring), ms(st.during.p50), ms(st.during.p99), ms(st.during.max)],
        ],
        o.markdown,
      ),
    );
    out.push(
      `  every snapshot arrived within ${(st.storm.ms / 1000).toFixed(2)} s (${(st.storm.snapshotBytes / 1024).toFixed(0)} KiB each); fragments rendered during the storm ${st.fragmentsRendered}, connects that shared a snapshot ${st.snapshotsShared}; server RSS ${mb(st.rssMB)} MB`,
    );
    out.push('', `Bytes on the wire (body), pool of ${st.devices} devices:`);
    out.push(
      table(
        ['what', 'identity bytes', 'gzip bytes', 'br bytes', 'gzip ratio', 'br ratio'],
        st.wire.map((w) => [w.what, String(w.identity), String(w.gzip), String(w.br), `${(w.identity / w.gzip).toFixed(1)}×`, `${(w.identity / w.br).toFixed(1)}×`]),
        o.markdown,
      ),
    );
  }

  out.push('', 'Targets:');
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const big = fanouts.find((f) => f.clients === TARGETS.fanoutClients);
  if (big) {
    const rss = Math.max(big.memory.connected.rssMB, big.memory.afterFanout.rssMB);
    out.push(`  10,000 clients, delivery p99 < ${TARGETS.p99Ms} ms: ${verdict(big.latency.p99 < TARGETS.p99Ms)} (${ms(big.latency.p99)} ms)`);
    out.push(`  10,000 clients, server RSS < ${TARGETS.rssMB} MB: ${verdict(rss < TARGETS.rssMB)} (${mb(rss)} MB connected/after fan-out; peak ${mb(big.memory.afterFanout.peakMB)} MB)`);
  } else if (o.only === undefined || o.only === 'fanout') {
    out.push('  10,000-client targets: not measured in this run');
  }
  const kubeBig = kubeFanouts.find((f) => f.clients === TARGETS.fanoutClients);
  if (kubeBig?.dashboardShare) {
    out.push(`  10,000 clients through the apiserver, dashboard's share p99 < ${TARGETS.p99Ms} ms: ${verdict(kubeBig.dashboardShare.p99 < TARGETS.p99Ms)} (${ms(kubeBig.dashboardShare.p99)} ms; end to end ${ms(kubeBig.latency.p99)} ms)`);
  }
  const prod = renders.find((r) => r.production);
  if (prod) {
    out.push(`  pool page render < ${TARGETS.renderMs} ms (server time, production): p50 ${verdict(prod.httpServer.p50 < TARGETS.renderMs)} (${ms(prod.httpServer.p50)} ms), p99 ${verdict(prod.httpServer.p99 < TARGETS.renderMs)} (${ms(prod.httpServer.p99)} ms)`);
  }
  if (viewers) {
    // Against the mean of the sides without them, measured before and after: the machine's drift over the run is not theirs.
    const ratio = viewers.with.poolLatency.p99 / ((viewers.without.poolLatency.p99 + viewers.withoutAgain.poolLatency.p99) / 2);
    out.push(`  ${o.viewers} /sessions viewers at 5 changes/s, server CPU < ${TARGETS.viewersCpuPercent} % of a core: ${verdict(viewers.with.cpuPercent < TARGETS.viewersCpuPercent)} (${viewers.with.cpuPercent.toFixed(1)} %)`);
    out.push(`  pool viewers' p99 with them ≤ ${TARGETS.viewersP99Ratio}× without: ${verdict(ratio <= TARGETS.viewersP99Ratio)} (${ratio.toFixed(2)}×)`);
  }
  if (storm) {
    const rise = storm.during.p99 - storm.without.p99;
    out.push(`  storm of ${storm.storm.connected}: viewers' p99 rises < ${TARGETS.stormP99RiseMs} ms: ${verdict(rise < TARGETS.stormP99RiseMs)} (${rise >= 0 ? '+' : '−'}${ms(Math.abs(rise))} ms)`);
    out.push(`  storm of ${storm.storm.connected}: every snapshot within ${TARGETS.stormSnapshotsS} s: ${verdict(storm.storm.ms < TARGETS.stormSnapshotsS * 1000)} (${(storm.storm.ms / 1000).toFixed(2)} s)`);
  }
  if (insights) {
    for (const [k, r] of Object.entries(insights.render)) out.push(`  /insights render ${k} < ${TARGETS.insightsRenderMs} ms: p50 ${verdict(r.p50 < TARGETS.insightsRenderMs)} (${ms(r.p50)} ms)`);
    out.push(`  one session change to the insights < ${TARGETS.insightsChangeMs} ms: p50 ${verdict(insights.changeInsightsUs.p50 < TARGETS.insightsChangeMs * 1000)} (${insights.changeInsightsUs.p50.toFixed(1)} µs), max ${(insights.changeInsightsUs.max / 1000).toFixed(2)} ms`);
  }
  if (failures.length) {
    out.push('', 'FAILED:');
    for (const f of failures) out.push(`  ${f}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);

  if (o.json) {
    writeFileSync(o.json, `${JSON.stringify({ started: started.toISOString(), machine: m, loadAfter, options: o, fanouts, kubeFanouts, renders, sessions, events, viewers, storm, insights, failures }, null, 2)}\n`);
  }
  return failures.length ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killChildren();
    process.exit(130);
  });
}

main().then(
  (code) => {
    killChildren();
    process.exit(code);
  },
  (err) => {
    log(`bench: FAILED: ${(err as Error).stack ?? String(err)}`);
    killChildren();
    process.exit(1);
  },
);
