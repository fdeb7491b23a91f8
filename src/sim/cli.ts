// `npm run simulate -- --kubeconfig <path> [flags]`: the farm simulator against a real
// cluster, for local development, demos on a real API server and load tests. Its flags, then
// the run: it sets up the farm if missing (farm-setup.ts), then plays the DroidFarm operator
// in one namespace (status through the status subresource, Events, a steady flow of
// sessions) until SIGINT/SIGTERM, with a line per notable transition (terminal.ts) and a
// summary every 15 s.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkKubeconfig, ConfigError, flagHelp, parseFlags } from '../flags.js';
import { KubeCluster, loadKubeConfig } from '../kube/kube-cluster.js';
import { isDnsLabel } from '../kube/names.js';
import { ensureFarm, explain } from './farm-setup.js';
import { FarmSimulator } from './simulator.js';
import { clock, describeTransition, LineBudget } from './terminal.js';

const PROGRAM = 'droidfarm-simulate';

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
