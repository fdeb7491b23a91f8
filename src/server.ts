// Entry point: read the configuration, build the app, listen, and shut down gracefully on
// SIGTERM/SIGINT: /readyz fails at once (and, with --shutdown-delay, the server keeps
// serving a few seconds while load balancers notice), then live streams end with a retry
// hint, in-flight requests finish, and the process exits well within the grace period.
import { buildApp } from './app.js';
import { ConfigError, helpText, loadConfig, type Config } from './config.js';
import type { Cluster } from './kube/types.js';
import { LISTEN_BACKLOG } from './http/limits.js';
import { prettyDestination } from './log-format.js';
import { CLOSE_TIMEOUT_MS } from './shutdown.js';
import { dashboardURL, exposureWarning, startupLine } from './startup-line.js';


async function main(): Promise<void> {
  let config: Config | null;
  try {
    config = loadConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`droidfarm-dashboard: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (!config) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }

  let cluster: Cluster | undefined;
  let stopDemo: (() => void) | undefined;
  if (config.cluster.mode === 'demo') {
    const { startDemo } = await import('./sim/demo.js');
    const demo = await startDemo();
    cluster = demo.cluster;
    stopDemo = demo.stop;
  }

  const logger = { level: config.logLevel, ...(config.logFormat === 'pretty' ? { stream: prettyDestination(process.stdout) } : {}) };
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp(config, { logger, ...(cluster ? { cluster } : {}) });
  } catch (err) {
    // What only shows once the app is built (missing assets in production): said, not a stack.
    if (err instanceof ConfigError) {
      process.stderr.write(`droidfarm-dashboard: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    app.farm.draining = true;
    const timer = setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownDelaySeconds * 1000 + CLOSE_TIMEOUT_MS);
    timer.unref();
    try {
      if (config.shutdownDelaySeconds > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelaySeconds * 1000));
      stopDemo?.();
      await app.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  // Fastify logs one line per address it listens at: the first says what runs and which URL
  // to open (the real port, also for --port 0), so it is the first line a person sees.
  let first = true;
  await app.listen({
    host: config.host,
    port: config.port,
    backlog: LISTEN_BACKLOG,
    listenTextResolver: (address) => {
      if (!first) return `also listening at ${address}`;
      first = false;
      const port = Number(/:(\d+)$/.exec(address)?.[1] ?? config.port);
      return startupLine(config.cluster, app.farm.cluster.description, dashboardURL(config.host, port));
    },
  });
  const exposure = exposureWarning(config.host, config.cluster, config.readOnly);
  if (exposure) app.log.warn(exposure);
  if (config.cluster.mode === 'demo') {
    const why = config.cluster.reason === 'forced' ? '--demo was given' : 'no kubeconfig or in-cluster service account was found';
    app.log.warn(`running the EMBEDDED DEMO: a simulated farm in memory (${why})`);
  } else {
    app.log.info({ cluster: app.farm.cluster.description, namespaces: config.namespaces.length ? config.namespaces : 'all' }, 'watching the cluster');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`droidfarm-dashboard: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
