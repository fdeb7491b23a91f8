// The dashboard's own health as Prometheus sees it: live stream clients and fan-out, watch
// restarts, relists and silence, fragment render time. Totals are kept by the components
// that own them (broker, JSON feed, informers) and read at scrape time; only render time
// is observed as it happens, by wrapping the render function the broker is given.
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Limits } from '../config.js';
import type { RateLimited } from '../http/limits.js';
import type { InformerStatus } from '../kube/informer.js';
import type { AdmissionStats } from '../live/admission.js';
import type { Render } from '../live/broker.js';
import { PREFIX, totalsCounter, type Labels } from './registry.js';

export const STREAMS = ['pages', 'json'] as const;
export type Stream = (typeof STREAMS)[number];

/** What the broker (pages, /live) and the JSON feed (/api/v1/events) count. */
export interface StreamStats {
  clients: number;
  /** Events sent to at least one client, each counted once. */
  eventsSent: number;
  /** Events times the clients each was sent to. */
  deliveries: number;
  /** Clients dropped because they could not keep up. */
  dropped: number;
  /** Events kept for replay to reconnecting clients, and their bytes. */
  historyEvents: number;
  historyBytes: number;
  /** Pages only: topics remembered as changed while unwatched, shared snapshots. */
  skippedTopics?: number;
  skippedBytes?: number;
  snapshotBytes?: number;
  snapshotsShared?: number;
}

/** The caps on what clients can start, and how often each refused someone. */
export interface LimitFigures {
  admission: AdmissionStats;
  logs: { upstreams: number; refused: number };
  rateLimited: Record<RateLimited, number>;
  config: Limits;
}

export interface DashboardSources {
  streams: () => Record<Stream, StreamStats>;
  watches: () => readonly InformerStatus[];
  limits?: () => LimitFigures;
  /** Who acts (issue 12): the SubjectAccessReview cache and the scoped farm-wide topics. */
  access?: () => { reviews: number; entries: number; scopedTopics: number };
  now?: () => number;
}

/** Fragments render in well under a millisecond to tens of milliseconds. */
export const RENDER_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export interface WatchFigures {
  resource: string;
  restarts: number;
  relists: number;
  /** Seconds since the quietest scope of this resource last heard anything; undefined before its first list. */
  silenceSeconds: number | undefined;
  synced: boolean;
  failing: boolean;
}

/**
 * One line per watched resource, summing its namespaces' informers (a dashboard limited to
 * some namespaces runs one per namespace). Silence is the time since an informer last
 * received a watch event or bookmark, or finished a list, whichever is later; for a
 * resource watched in several namespaces, the longest of them.
 */
export function watchFigures(statuses: readonly InformerStatus[], now: number): WatchFigures[] {
  const out = new Map<string, WatchFigures & { unknown: boolean }>();
  for (const s of statuses) {
    let f = out.get(s.resource);
    if (!f) out.set(s.resource, (f = { resource: s.resource, restarts: 0, relists: 0, silenceSeconds: undefined, synced: true, failing: false, unknown: false }));
    f.restarts += s.restarts;
    f.relists += s.relists;
    f.synced &&= s.synced;
    f.failing ||= s.state === 'retrying';
    const heard = Math.max(s.lastEventAt ?? -Infinity, s.lastSyncAt ?? -Infinity);
    if (!Number.isFinite(heard)) f.unknown = true;
    else f.silenceSeconds = Math.max(f.silenceSeconds ?? 0, Math.max(0, now - heard) / 1000);
  }
  return [...out.values()].map(({ unknown, ...f }) => (unknown ? { ...f, silenceSeconds: undefined } : f));
}

export class DashboardMetrics {
  private readonly renderSeconds: Histogram<'template'>;

  constructor(registry: Registry, sources: DashboardSources) {
    const now = sources.now ?? Date.now;
    const perStream = (pick: (s: StreamStats) => number) => (): Array<readonly [Labels<'stream'>, number]> => {
      const stats = sources.streams();
      return STREAMS.map((stream) => [{ stream }, pick(stats[stream])] as const);
    };
    new Gauge({
      name: `${PREFIX}live_clients`,
      help: 'Live stream clients connected now: pages (/live) and json (/api/v1/events).',
      labelNames: ['stream'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of perStream((s) => s.clients)()) this.set(labels, value);
      },
    });
    totalsCounter(registry, `${PREFIX}live_events_total`, 'Live events sent to at least one client, each counted once (snapshots on connect not included).', ['stream'], perStream((s) => s.eventsSent));
    totalsCounter(registry, `${PREFIX}live_deliveries_total`, 'Live events times the clients each was sent to (the fan-out).', ['stream'], perStream((s) => s.deliveries));
    totalsCounter(registry, `${PREFIX}live_clients_dropped_total`, 'Live clients dropped because they could not keep up (buffer or time limit).', ['stream'], perStream((s) => s.dropped));
    streamGauge(registry, 'live_replay_events', 'Events kept in memory for replay to reconnecting clients (bounded by count, bytes and age).', perStream((s) => s.historyEvents));
    streamGauge(registry, 'live_replay_bytes', 'Bytes of the events kept for replay.', perStream((s) => s.historyBytes));
    const pages = () => sources.streams().pages;
    plainGauge(registry, 'live_skipped_topics', 'Page topics remembered as changed while nobody watched them (bounded by count and age).', () => pages().skippedTopics ?? 0);
    plainGauge(registry, 'live_skipped_bytes', 'Approximate bytes those remembered topics take.', () => pages().skippedBytes ?? 0);
    plainGauge(registry, 'live_snapshot_cache_bytes', 'Bytes of page snapshots kept to be shared by clients that connect to the same topics.', () => pages().snapshotBytes ?? 0);
    totalsCounter(registry, `${PREFIX}live_snapshots_shared_total`, 'Page connects served a snapshot rendered for another client (no render of their own).', [], () => [[{}, pages().snapshotsShared ?? 0] as const]);

    if (sources.limits) {
      const limits = sources.limits;
      new Gauge({
        name: `${PREFIX}live_connections_limit`,
        help: 'The caps on live streams: in all (scope total) and from one client address (scope address).',
        labelNames: ['scope'],
        registers: [registry],
        collect() {
          const { config } = limits();
          this.set({ scope: 'total' }, config.liveClients);
          this.set({ scope: 'address' }, config.liveClientsPerAddress);
        },
      });
      plainGauge(registry, 'live_client_addresses', 'Client addresses with at least one live stream open.', () => limits().admission.addresses);
      totalsCounter(registry, `${PREFIX}live_refused_total`, 'Live streams refused: the total cap was reached (reason total, a 503) or the address had its most (reason address, a 429).', ['reason'], () =>
        (['total', 'address'] as const).map((reason) => [{ reason }, limits().admission.refused[reason]] as const),
      );
      plainGauge(registry, 'log_upstreams', 'Runner-log requests to the API server open now (page follows and API streams).', () => limits().logs.upstreams);
      plainGauge(registry, 'log_upstreams_limit', 'The cap on those requests (--max-log-follows).', () => limits().config.logFollows);
      totalsCounter(registry, `${PREFIX}log_upstreams_refused_total`, 'Runner-log requests refused because the cap was reached (a 503 for the API; a page retries).', [], () => [[{}, limits().logs.refused] as const]);
      totalsCounter(registry, `${PREFIX}rate_limited_total`, 'Requests refused with 429 by the per-address rate limits: writes, and requests for pages that do not exist (kind not_found).', ['kind'], () =>
        (['writes', 'not_found'] as const).map((kind) => [{ kind }, limits().rateLimited[kind]] as const),
      );
    }

    if (sources.access) {
      const access = sources.access;
      totalsCounter(registry, `${PREFIX}access_reviews_total`, 'SubjectAccessReviews sent to the API server about signed-in people (cached per user, groups, verb, resource and namespace).', [], () => [[{}, access().reviews] as const]);
      plainGauge(registry, 'access_review_cache_entries', 'Answers kept in the SubjectAccessReview cache (bounded).', () => access().entries);
      plainGauge(registry, 'live_scoped_topics', 'Farm-wide page topics scoped to one view of the farm (people who see only some namespaces), each rendered once per change.', () => access().scopedTopics);
    }

    const watches = () => watchFigures(sources.watches(), now());
    totalsCounter(registry, `${PREFIX}watch_restarts_total`, 'Watches that ended in a failure, a 410 Gone or the silence watchdog (clean server timeouts not included).', ['resource'], () =>
      watches().map((w) => [{ resource: w.resource }, w.restarts] as const),
    );
    totalsCounter(registry, `${PREFIX}watch_relists_total`, 'Full lists after the first one (after a 410 Gone or a failed list): the cache was rebuilt.', ['resource'], () =>
      watches().map((w) => [{ resource: w.resource }, w.relists] as const),
    );
    resourceGauge(registry, 'watch_silence_seconds', 'Seconds since the watch last delivered an event or a bookmark, or was listed; absent before the first list.', () =>
      watches().flatMap((w) => (w.silenceSeconds === undefined ? [] : [[w.resource, w.silenceSeconds] as const])),
    );
    resourceGauge(registry, 'watch_synced', '1 once every informer of the resource has listed it, else 0.', () => watches().map((w) => [w.resource, w.synced ? 1 : 0] as const));
    resourceGauge(registry, 'watch_failing', '1 while some informer of the resource is retrying after a failure, else 0.', () => watches().map((w) => [w.resource, w.failing ? 1 : 0] as const));

    this.renderSeconds = new Histogram({
      name: `${PREFIX}fragment_render_seconds`,
      help: 'Time to render one live fragment (page regions and runner log chunks), by template.',
      labelNames: ['template'],
      buckets: RENDER_BUCKETS,
      registers: [registry],
    });
  }

  /** The same render function, timed. Template names are a fixed set in code: a bounded label. */
  timed(render: Render): Render {
    // One child series per template, found once: labelling each of a change's ~200 scoped renders cost more than some of them.
    const byTemplate = new Map<string, Histogram.Internal<'template'>>();
    return async (template, data) => {
      let series = byTemplate.get(template);
      if (!series) byTemplate.set(template, (series = this.renderSeconds.labels({ template: template.replace(/^\//, '') })));
      const end = series.startTimer();
      try {
        return await render(template, data);
      } finally {
        end();
      }
    };
  }
}

function streamGauge(registry: Registry, name: string, help: string, rows: () => ReadonlyArray<readonly [Labels<'stream'>, number]>): void {
  new Gauge({
    name: `${PREFIX}${name}`,
    help,
    labelNames: ['stream'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of rows()) this.set(labels, value);
    },
  });
}

function plainGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name: `${PREFIX}${name}`,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

function resourceGauge(registry: Registry, name: string, help: string, rows: () => ReadonlyArray<readonly [string, number]>): void {
  new Gauge({
    name: `${PREFIX}${name}`,
    help,
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [resource, value] of rows()) this.set({ resource }, value);
    },
  });
}
