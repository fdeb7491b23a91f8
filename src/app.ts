// buildApp(config): the whole dashboard as a Fastify instance, without listening, so tests
// and the server share it. Data flows one way: cluster → FarmSync → FarmStore → routes
// (and the live broker) → browser. Routes read the store only; writes go to the cluster
// and come back through the watch.
import { registerHostGuard } from './http/host-guard.js';
import { InternalErrors } from './metrics/internal-errors.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ConfigError, type Config } from './config.js';
import { FarmStore } from './farm/store.js';
import { trackConnections } from './http/closing.js';
import { registerCompression } from './http/compression.js';
import { frameworkErrorHandler, registerErrorHandlers } from './http/errors.js';
import { registerSchemas, type DocumentedSchema } from './http/schema.js';
import { AccessReviews, type AccessOptions } from './http/access.js';
import { ScopeFollow } from './http/scope-follow.js';
import { streamScope } from './http/visibility.js';
import { registerIdentity } from './http/identity.js';
import { registerLimits, type RateLimited } from './http/limits.js';
import { registerReadAccess } from './http/read-access.js';
import { registerSecurityHeaders } from './http/security.js';
import { createTemplates } from './http/templates.js';
import { registerWriteGuard } from './http/write-guard.js';
import { connectCluster } from './kube/index.js';
import { FarmSync } from './kube/sync.js';
import type { Cluster } from './kube/types.js';
import { registerViewHelpers } from './view/view-helpers.js';
import { LiveAdmission } from './live/admission.js';
import { Broker, type BrokerOptions, type Render } from './live/broker.js';
import { FragmentCatalog } from './live/fragments.js';
import { JsonFeed } from './live/json-feed.js';
import { PodLogReader } from './kube/pod-logs.js';
import { LogFollowers } from './live/log-follower.js';
import type { LogLimits } from './live/log-follow.js';
import { Metrics } from './metrics/index.js';
import apiRoutes from './routes/api/index.js';
import demoRoutes from './routes/demo/index.js';
import farmRoutes from './routes/farm/index.js';
import insightsRoutes from './routes/insights/index.js';
import liveRoutes from './routes/live/index.js';
import opsRoutes from './routes/ops/index.js';
import poolRoutes from './routes/pools/index.js';
import sessionRoutes from './routes/sessions/index.js';
import yamlRoutes from './routes/yaml/index.js';
import sessionBatchRoutes from './routes/sessions/batch.js';
import logViewerRoutes from './routes/logs/index.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ServedRoute {
  method: string;
  url: string;
  schema?: DocumentedSchema;
}

export interface FarmServices {
  config: Config;
  store: FarmStore;
  cluster: Cluster;
  sync: FarmSync;
  catalog: FragmentCatalog;
  broker: Broker;
  feed: JsonFeed;
  /** Runner logs: one upstream follow per watched session, and the API's log streams. */
  logs: LogFollowers;
  /** Every read of a pod's log (the follows' and the API's), counted and capped. */
  podLogs: PodLogReader;
  /** The routes served, method, URL pattern and schema, in registration order (the OpenAPI document reads it). */
  routes: ReadonlyArray<ServedRoute>;
  /** What GET /metrics reports (docs/metrics.md). */
  metrics: Metrics;
  /** Caps on live streams (total and per address), shared by /live and /api/v1/events. */
  admission: LiveAdmission;
  /** Requests refused by the rate limits, for /metrics. */
  rateLimited: Record<RateLimited, number>;
  /** Set when the process is shutting down: /readyz fails from then on. */
  draining: boolean;
  /** What signed-in people may do and see (cached SubjectAccessReviews). */
  access: AccessReviews;
  /** Each signed-in person's scope while streams of theirs are open: one refresh per person per TTL. */
  scopes: ScopeFollow;
}

declare module 'fastify' {
  interface FastifyInstance {
    farm: FarmServices;
  }
}

export interface AppOptions {
  /** Use this cluster instead of the one the config names (the demo and tests). */
  cluster?: Cluster;
  logger?: FastifyServerOptions['logger'];
  /** Tuning for tests that provoke watch failures. */
  sync?: { watchdogMs?: number; backoff?: { initialMs: number; maxMs: number } };
  /** Tuning for tests of the live streams. */
  live?: Partial<Pick<BrokerOptions, 'coalesceMs' | 'heartbeatMs' | 'staleCheckMs' | 'limits'>>;
  /** Tuning for tests of the runner log panel. */
  logs?: Partial<LogLimits>;
  /** Tuning for tests of the access-review cache. */
  access?: AccessOptions;
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    // Large bodies are never legitimate here; refuse them before parsing.
    bodyLimit: 256 * 1024,
    // Kubernetes names reach 253 characters (Fastify's default limit is 100: a 414 for a
    // legal name); the margin covers names percent-encoded by hand. Longer is never a name.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    // The router's own refusals (a parameter too long, bad encoding) get a code and a page too.
    frameworkErrors: frameworkErrorHandler((): FastifyInstance => app),
    // Per-request lines only when debugging: a live dashboard makes many small requests.
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
  });

  // Every route as it is registered, for the API's description and its test.
  const routes: ServedRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, ...(route.schema ? { schema: route.schema as DocumentedSchema } : {}) });
  });
  // Query strings, path parameters, headers and bodies are checked by each route's schema.
  registerSchemas(app);

  const cluster = options.cluster ?? connectCluster(config);
  // Failures caught inside the dashboard: logged and counted (droidfarm_internal_errors_total).
  const store = new FarmStore({ errors: new InternalErrors(app.log) });
  const sync = new FarmSync({
    cluster,
    store,
    namespaces: config.namespaces,
    log: app.log,
    ...(options.sync?.watchdogMs ? { watchdogMs: options.sync.watchdogMs } : {}),
    ...(options.sync?.backoff ? { backoff: options.sync.backoff } : {}),
  });
  // Before the watches start, so it sees the first list as such; read at scrape time.
  const admission = new LiveAdmission(config.limits);
  const rateLimited: Record<RateLimited, number> = { writes: 0, not_found: 0 };
  const metrics: Metrics = new Metrics({
    store,
    streams: () => ({ pages: broker.stats(), json: feed.stats() }),
    watches: () => sync.statuses(),
    insights: () => catalog.insights.report({ window: '1h' }, Date.now()),
    limits: () => ({ admission: admission.stats(), logs: { upstreams: podLogs.upstreams, refused: podLogs.refused }, rateLimited, config: config.limits }),
    access: () => ({ reviews: access.reviews, entries: access.size, scopedTopics: catalog.scopedTopicCount }),
  });
  // Live fragments render straight from the pages' Eta instance (same templates, same cache):
  // @fastify/view's per-call option merging was a third of a fragment's render time.
  const templates = createTemplates(join(ROOT, 'views'), config.production);
  const render: Render = metrics.timed(async (template, data) => templates.render(template, data));
  // Log chunks go out through the broker, which tells the followers when a log topic is watched.
  const podLogs = new PodLogReader(cluster, config.limits.logFollows);
  const logs = new LogFollowers({
    store,
    reader: podLogs,
    render,
    sink: { publish: (topic, fragments) => broker.publish(topic, fragments), invalidate: (topic) => broker.invalidate(topic) },
    log: app.log,
    ...(options.logs ? { limits: options.logs } : {}),
  });
  const catalog = new FragmentCatalog(store, { origins: config.streamOrigins, linkOrigins: config.linkOrigins, allowHttp: config.allowHttpStreams }, Date.now, logs);
  // The broker renders with the same templates as the pages: one partial per region.
  const broker = new Broker({
    store,
    catalog,
    render,
    log: app.log,
    onTopicActive: (topic, active) => {
      catalog.onTopic(topic, active);
      logs.onTopic(topic, active);
    },
    ...options.live,
  });
  const feed = new JsonFeed(store, options.live?.limits ? { limits: options.live.limits } : {});
  const access = new AccessReviews(cluster, options.access ?? {});
  const scopes = new ScopeFollow(
    (who) => streamScope(app, who),
    (err) => store.errors.record('scope_listener', err, 'a stream could not follow a scope change'),
  );
  // A 403 said this person's RBAC changed: their open streams ask for their scope again.
  access.onForget((user) => scopes.forgot(user));
  app.decorate('farm', { config, store, cluster, sync, catalog, broker, feed, logs, podLogs, metrics, admission, rateLimited, routes, draining: false, access, scopes } satisfies FarmServices);

  // Before everything else: a request for another host name is not this dashboard's
  // (DNS rebinding), and a flood is refused before any other work.
  registerHostGuard(app, config.allowedHosts);
  await registerLimits(app, config.limits, rateLimited);
  registerSecurityHeaders(app, config.streamOrigins);
  // Who asks, before anything acts on it: without a trusted identity, 401 here.
  registerIdentity(app, config.auth, cluster);
  registerWriteGuard(app, { readOnly: config.readOnly });
  // Before @fastify/view, which then keeps this reply.locals (a getter) instead of its own.
  registerViewHelpers(app, { assetVersion: assetVersion(config.production, store.errors) });
  await app.register(fastifyView, {
    engine: { eta: templates },
    root: join(ROOT, 'views'),
    viewExt: 'eta',
    production: config.production,
  });
  // Pages, JSON and static assets, brotli or gzip; never the streams (see compression.ts).
  await registerCompression(app);
  await app.register(fastifyStatic, {
    root: join(ROOT, 'public'),
    prefix: '/static/',
    // Asset URLs carry a content hash (see assetVersion), so they can be cached for good.
    maxAge: '365d',
    immutable: true,
  });
  registerErrorHandlers(app);
  registerReadAccess(app);

  await app.register(opsRoutes);
  await app.register(farmRoutes);
  await app.register(poolRoutes);
  await app.register(insightsRoutes);
  await app.register(sessionRoutes);
  await app.register(yamlRoutes);
  await app.register(sessionBatchRoutes);
  await app.register(logViewerRoutes);
  await app.register(liveRoutes);
  await app.register(apiRoutes);
  if (config.cluster.mode === 'demo') await app.register(demoRoutes);

  app.addHook('onReady', async () => {
    broker.start();
    feed.start();
    logs.start();
    sync.start();
  });
  const letConnectionsGo = trackConnections(app.server);
  // Streams never end by themselves: close them first, or app.close() would wait forever.
  app.addHook('preClose', async () => {
    app.farm.draining = true;
    letConnectionsGo();
    broker.close();
    feed.close();
    scopes.close();
    logs.close();
    podLogs.close();
  });
  app.addHook('onClose', async () => {
    sync.stop();
    metrics.close();
    await cluster.close();
  });
  return app;
}

/**
 * A short hash of the built assets, appended to their URLs to bust caches on upgrade. A
 * missing one would be a page without styles or scripts: in production that is an image
 * built wrong, and the dashboard refuses to start; in development it says so and goes on.
 */
export function assetVersion(production: boolean, errors: InternalErrors, root = ROOT): string {
  const hash = createHash('sha256');
  const missing: string[] = [];
  for (const file of ASSETS) {
    try {
      hash.update(readFileSync(join(root, 'public', file)));
    } catch (err) {
      missing.push(`public/${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      hash.update(file);
    }
  }
  if (missing.length) {
    const message = `built assets are missing: ${missing.join(', ')}. Run \`npm run build\` (or build the image with its Dockerfile).`;
    if (production) throw new ConfigError(message);
    errors.record('assets', new Error(message), 'built assets are missing; pages will lack styles or scripts');
  }
  return hash.digest('hex').slice(0, 10);
}

/** The files under public/ the pages load; app.css and vendor/ are built (npm run build). */
export const ASSETS = ['app.css', 'vendor/htmx.min.js', 'vendor/sse.js', 'app.js'] as const;
