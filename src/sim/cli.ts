// `npm run simulate -- --kubeconfig <path> [flags]`: the farm simulator against a real
// cluster, for local development, demos on a real API server and load tests. It creates
// the example DeviceTemplates and N DevicePools of M devices if they are missing (existing
// ones are left as they are), then plays the DroidFarm operator in one namespace (status
// through the status subresource, Events, a steady flow of sessions) until SIGINT/SIGTERM.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { checkKubeconfig, ConfigError, flagHelp, parseFlags } from '../flags.js';
import { ClusterError } from '../kube/errors.js';
import { KubeCluster, loadKubeConfig } from '../kube/kube-cluster.js';
import type { Cluster, NewKubeObject } from '../kube/types.js';
import { FarmSimulator, type Transition } from './simulator.js';
import { isDnsLabel } from '../kube/names.js';

const PROGRAM = 'droidfarm-simulate';
const EXAMPLE_TEMPLATES = join(import.meta.dirname, '..', '..', 'deploy', 'examples', 'devicetemplates.yaml');

export interface SimulateConfig {
  kubeconfig: string;
  context: string | undefined;
  /** undefined: the kubeconfig context's namespace, else "default". */
  namespace: string | undefined;
  pools: number;
  devices: number;
  speed: number;
  seed: number;
  sessionsPerMinute: number;
  keepFinishedMinutes: number;
  tickMs: number;
}

const FLAGS = {
  kubeconfig: { type: 'string', env: 'KUBECONFIG', help: 'kubeconfig file, else ~/.kube/config' },
  context: { type: 'string', help: 'kubeconfig context to use' },
  namespace: { type: 'string', help: "namespace to simulate in (default: the context's, else default)" },
  pools: { type: 'string', help: 'DevicePools to create if missing: sim-1 … sim-N (default 3)' },
  devices: { type: 'string', help: 'replicas of each pool created (default 4; existing pools keep theirs)' },
  speed: { type: 'string', help: 'simulated seconds per real second (default 1)' },
  seed: { type: 'string', help: 'seed of the simulation: same seed, same story (default 1)' },
  'sessions-per-minute': { type: 'string', help: 'new TestSessions per pool per simulated minute (default 1; 0: none)' },
  'keep-finished': { type: 'string', help: 'simulated minutes finished simulated sessions are kept before deletion (default 30)' },
  'tick-ms': { type: 'string', help: 'real milliseconds between simulator steps (default 500)' },
  help: { type: 'boolean', help: 'print this help and exit' },
} as const;

export function helpText(): string {
  return flagHelp('npm run simulate -- --kubeconfig <path> [flags]', FLAGS);
}

export interface SimulateEnvironment {
  argv: string[];
  env: NodeJS.ProcessEnv;
  home?: string;
  fileExists?: (path: string) => boolean;
}

/** Parses and validates the flags; throws ConfigError. Returns null when --help was asked. */
export function parseSimulateArgs({ argv, env, home = homedir(), fileExists = existsSync }: SimulateEnvironment): SimulateConfig | null {
  const flags = parseFlags(argv, env, FLAGS);
  if (flags.help) return null;
  const { str, number } = flags;

  const namespace = str('namespace');
  if (namespace !== undefined && !isDnsLabel(namespace)) {
    throw new ConfigError(`--namespace ${JSON.stringify(namespace)} is not a valid namespace name (lowercase letters, digits and '-', at most 63).`);
  }

  const config = {
    context: str('context'),
    namespace,
    pools: number('pools', 3, { min: 0, max: 100, integer: true }),
    devices: number('devices', 4, { min: 0, max: 500, integer: true }),
    speed: number('speed', 1, { min: 0, max: 10_000, above: true }),
    seed: number('seed', 1, { min: 0, max: 2 ** 32 - 1, integer: true }),
    sessionsPerMinute: number('sessions-per-minute', 1, { min: 0, max: 10_000 }),
    keepFinishedMinutes: number('keep-finished', 30, { min: 0, max: 7 * 24 * 60 }),
    tickMs: number('tick-ms', 500, { min: 10, max: 60_000, integer: true }),
  };

  const kubeconfig = str('kubeconfig');
  if (kubeconfig !== undefined) {
    checkKubeconfig(kubeconfig, fileExists, 'fix --kubeconfig / KUBECONFIG');
    return { ...config, kubeconfig };
  }
  const fallback = join(home, '.kube', 'config');
  if (!fileExists(fallback)) {
    throw new ConfigError('no kubeconfig: pass --kubeconfig <path> (or set KUBECONFIG). For a farm without a cluster, run `npm start` (the embedded demo).');
  }
  return { ...config, kubeconfig: fallback };
}

// ---- setting up the farm ----

function exampleTemplates(): NewKubeObject[] {
  const docs = loadAllYaml(readFileSync(EXAMPLE_TEMPLATES, 'utf8')) as Array<{ apiVersion: string; kind: string; metadata: { name: string }; spec: unknown }>;
  return docs.map((d) => ({ apiVersion: d.apiVersion, kind: d.kind, metadata: { name: d.metadata.name }, spec: d.spec }));
}

/** Creates what is missing; says what it did. Existing objects are never changed. */
async function ensureFarm(cluster: Cluster, namespace: string, config: SimulateConfig, say: (line: string) => void): Promise<void> {
  const templates = exampleTemplates();
  const created: string[] = [];
  const existing: string[] = [];
  const ensure = async (resource: 'templates' | 'pools', object: NewKubeObject, label: string) => {
    try {
      await cluster.create(resource, namespace, object);
      created.push(label);
    } catch (err) {
      if (err instanceof ClusterError && err.status === 409) existing.push(label);
      else throw err;
    }
  };
  for (const t of templates) await ensure('templates', t, `DeviceTemplate ${t.metadata.name}`);
  for (let i = 1; i <= config.pools; i++) {
    const name = `sim-${i}`;
    await ensure(
      'pools',
      {
        apiVersion: 'droidfarm.io/v1alpha1',
        kind: 'DevicePool',
        metadata: { name, labels: { 'droidfarm.io/simulated': 'true' } },
        spec: { templateRef: { name: templates[(i - 1) % templates.length]!.metadata.name! }, replicas: config.devices },
      },
      `DevicePool ${name}`,
    );
  }
  if (created.length) say(`created ${created.join(', ')}`);
  if (existing.length) say(`already there, left as they are: ${existing.join(', ')}`);
}

/** What a person can do about a failure talking to the cluster. */
function explain(err: unknown, namespace: string): string {
  if (!(err instanceof ClusterError)) return err instanceof Error ? err.message : String(err);
  if (err.status === 404 && err.message.includes('namespaces')) return `namespace ${namespace} does not exist: create it (kubectl create namespace ${namespace}) or pass --namespace.`;
  if (err.status === 404) return `the DroidFarm CRDs are not installed on this cluster: kubectl apply -k deploy/crds (${err.message})`;
  if (err.status === 401 || err.status === 403) return `the cluster refused the credentials or their permissions (${err.status}): ${err.message}`;
  return err.message;
}

// ---- terminal output ----

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

/** At most a burst of lines, then a few per second; the rest are counted in the summary. */
class LineBudget {
  private tokens: number;
  private last = Date.now();
  suppressed = 0;
  constructor(
    private readonly burst = 10,
    private readonly perSecond = 2,
  ) {
    this.tokens = burst;
  }
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens--;
      return true;
    }
    this.suppressed++;
    return false;
  }
}

function describeTransition(t: Transition): string | undefined {
  if (t.kind === 'session') {
    if (t.phase === 'Pending' || t.phase === 'Running') return undefined;
    return `session ${t.session} ${t.phase === 'Assigned' ? 'assigned' : `→ ${t.phase}`}`;
  }
  if (t.state === 'Unhealthy') return `device ${t.device} (pool ${t.pool}) → Unhealthy`;
  return undefined;
}

// ---- main ----

async function main(): Promise<void> {
  let config: SimulateConfig | null;
  let cluster: KubeCluster;
  let namespace: string;
  try {
    config = parseSimulateArgs({ argv: process.argv.slice(2), env: process.env });
    if (!config) {
      process.stdout.write(`${helpText()}\n`);
      return;
    }
    let kc;
    try {
      kc = loadKubeConfig({ kubeconfig: config.kubeconfig, context: config.context });
    } catch (err) {
      throw new ConfigError(`cannot use kubeconfig ${config.kubeconfig}: ${(err as Error).message}`);
    }
    namespace = config.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    cluster = new KubeCluster(kc);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${PROGRAM}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  const say = (line: string) => process.stdout.write(`${clock()} ${line}\n`);
  const warn = (line: string) => process.stderr.write(`${clock()} warning: ${line}\n`);

  try {
    await ensureFarm(cluster, namespace, config, say);
  } catch (err) {
    process.stderr.write(`${PROGRAM}: could not set up the farm in namespace ${namespace} on ${cluster.description}: ${explain(err, namespace)}\n`);
    await cluster.close();
    process.exit(1);
  }

  const budget = new LineBudget();
  const since = { assigned: 0, finished: 0, unhealthy: 0 };
  let lastWarning = '';
  let lastWarningAt = 0;
  const simulator = new FarmSimulator({
    cluster,
    namespace,
    seed: config.seed,
    speed: config.speed,
    tickMs: config.tickMs,
    sessionsPerMinute: config.sessionsPerMinute,
    keepFinishedMs: config.keepFinishedMinutes * 60_000,
    onTransition: (t) => {
      if (t.kind === 'session' && t.phase === 'Assigned') since.assigned++;
      else if (t.kind === 'session' && t.phase !== 'Pending' && t.phase !== 'Running') since.finished++;
      else if (t.kind === 'device' && t.state === 'Unhealthy') since.unhealthy++;
      const line = describeTransition(t);
      if (line && budget.take()) say(line);
    },
    log: {
      warn: (obj, msg) => {
        const err = (obj as { err?: unknown }).err;
        const line = `${msg}${err ? `: ${explain(err, namespace)}` : ''}`;
        // The same failure every tick (API server down) is said once per 30 s.
        if (line === lastWarning && Date.now() - lastWarningAt < 30_000) return;
        lastWarning = line;
        lastWarningAt = Date.now();
        warn(line);
      },
    },
  });

  say(
    `playing the DroidFarm operator in namespace ${namespace} on ${cluster.description} ` +
      `(seed ${config.seed}, speed ${config.speed}x, ${config.sessionsPerMinute} sessions per pool per simulated minute); Ctrl-C stops`,
  );
  simulator.start();

  const SUMMARY_MS = 15_000;
  const summary = setInterval(() => {
    void (async () => {
      try {
        const { items } = await cluster.list('pools', namespace);
        const counts = { idle: 0, busy: 0, booting: 0, unhealthy: 0 };
        for (const p of items) {
          const c = ((p.status as { counts?: Partial<typeof counts> } | undefined)?.counts ?? {}) as Partial<typeof counts>;
          for (const k of Object.keys(counts) as Array<keyof typeof counts>) counts[k] += c[k] ?? 0;
        }
        const hidden = budget.suppressed ? `; ${budget.suppressed} lines not shown` : '';
        budget.suppressed = 0;
        say(
          `farm: ${items.length} pools, ${counts.idle} idle, ${counts.busy} busy, ${counts.booting} booting, ${counts.unhealthy} unhealthy; ` +
            `last ${SUMMARY_MS / 1000}s: ${since.assigned} sessions assigned, ${since.finished} finished, ${since.unhealthy} devices unhealthy${hidden}`,
        );
        since.assigned = since.finished = since.unhealthy = 0;
      } catch (err) {
        warn(`could not read the pools for the summary: ${explain(err, namespace)}`);
      }
    })();
  }, SUMMARY_MS);
  summary.unref();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      process.stderr.write(`${PROGRAM}: ${signal} again, exiting at once\n`);
      process.exit(1);
    }
    stopping = true;
    say(`${signal}: stopping after the current step`);
    clearInterval(summary);
    await simulator.stop();
    await cluster.close();
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${PROGRAM}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
