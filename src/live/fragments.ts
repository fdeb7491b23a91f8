// The page regions that change live, each with its element id, its template and its data
// from the store. Pages render these same fragments on first load, htmx swaps them, and
// the broker re-renders them on change: one template per region, whatever asks for it.
// What each region shows is built in src/view; topic names are topics.ts, scopes scopes.ts.
// Over 300 lines on purpose: every page's regions, what a connect sends and what each kind
// of change makes stale sit side by side, so a new region is added in one place.
import { createHash } from 'node:crypto';
import { FarmAttention } from '../farm/attention.js';
import { FarmInsights, type InsightsQuery } from '../farm/insights/insights.js';
import { countDevices, isHeartbeatStale } from '../farm/devices.js';
import { farmTotals } from '../farm/stats.js';
import { key, type FarmChange, type FarmStore } from '../farm/store.js';
import { DEVICE_STATES, type PoolView } from '../farm/types.js';
import { deviceFactsView } from '../view/device-page.js';
import { domId } from '../view/dom-id.js';
import { attentionView, poolCard } from '../view/farm-page.js';
import { poolInsightsHref } from '../view/links.js';
import { liveBadgeView } from '../view/live-badge.js';
import { deviceGridView, deviceTile, poolHeaderView, wallView } from '../view/pool-page.js';
import type { UrlPolicy } from '../view/url-policy.js';
import { stateCountId } from '../view/pool-filter.js';
import { insightsTopic, isInsightsTopic, topicQuery } from '../view/insights-query.js';
import { insightsView } from '../view/insights-view.js';
import { isSessionListTopic, SessionLists } from '../view/session-list.js';
import { sessionDetailData } from '../view/session-detail.js';
import type { LogPanelData } from './log-panel.js';
import { Scopes, type Scope } from './scopes.js';
import { splitScoped, splitTopic, topics } from './topics.js';

export interface Fragment {
  /** The root element's id: what an out-of-band swap replaces. */
  id: string;
  template: string;
  data: Record<string, unknown>;
  /** htmx's out-of-band swap, when not "replace the element of the same id" (e.g. "beforeend:#inbox"). */
  swap?: string;
  /** What the broker renders it once per flush under, when not its id (a scoped sum shares its id). */
  renderKey?: string;
}


export interface TopicFragment {
  topic: string;
  fragment: Fragment;
}

/** Where the log panel's content comes from (LogFollowers). */
export interface LogPanelSource {
  panel(namespace: string, name: string): LogPanelData;
}

function fragment(id: string, template: string, data: Record<string, unknown>): Fragment {
  return { id, template, data: { ...data, id } };
}

/**
 * A fragment whose data is gathered only when someone reads it: the broker renders only
 * topics that have subscribers, so a change to one of 50,000 sessions costs nothing for
 * the 49,999 session pages nobody has open.
 */
function lazyFragment(id: string, template: string, build: () => Record<string, unknown>, renderKey?: string): Fragment {
  let data: Record<string, unknown> | undefined;
  return {
    id,
    template,
    ...(renderKey ? { renderKey } : {}),
    get data() {
      return (data ??= { ...build(), id });
    },
  };
}

export class FragmentCatalog {
  /** The session lists someone is watching, one per query. */
  private readonly lists: SessionLists;
  /** What needs an operator's attention, kept incrementally. */
  private readonly attention: FarmAttention;
  /** The farm's history from its sessions, kept incrementally (src/farm/insights). */
  readonly insights: FarmInsights;
  /** Insights topics someone is watching, and the insights revision they were last marked at. */
  private readonly insightsTopics = new Set<string>();
  private insightsSeen = 0;
  private insightsTimeMarkedAt = 0;
  /** The distinct views of the farm people subscribe with. */
  private readonly scopes = new Scopes();
  /** The farm-wide fragments that sum over pools, by id: a scope gets its own copy, under its render key. */
  private readonly aggregates = new Map<string, (scope: Scope, renderKey: string) => Fragment>([
    ['farm-totals', (scope, key) => this.farmTotals(scope, key)],
    ['farm-attention', (scope, key) => this.farmAttention(scope, key)],
    ['farm-pools', (scope, key) => this.farmPools(scope, key)],
    ['pools-table', (scope, key) => this.poolsTable(scope, key)],
  ]);

  constructor(
    private readonly store: FarmStore,
    private readonly policy: UrlPolicy,
    private readonly now: () => number = Date.now,
    private readonly logs?: LogPanelSource,
  ) {
    this.lists = new SessionLists(store, now, (id) => this.scopes.sessionNamespaces(id));
    this.attention = new FarmAttention(store);
    // Subscribed before the broker, so its figures are up to date when affected() runs.
    this.insights = new FarmInsights(store);
  }

  /** The broker says a topic gained its first subscriber (true) or lost its last (false). */
  onTopic(topic: string, active: boolean): void {
    if (isInsightsTopic(topic)) {
      if (active) this.insightsTopics.add(topic);
      else this.insightsTopics.delete(topic);
      return;
    }
    if (isSessionListTopic(topic)) this.lists.onTopic(topic, active);
    this.scopes.onTopic(topic, active);
  }

  /** Scoped farm-wide topics with subscribers: one per distinct view of the farm. */
  get scopedTopicCount(): number {
    return this.scopes.activeCount;
  }

  /** The topic a person with this scope subscribes to instead of "farm" or "pools". */
  scopedTopic(base: string, scope: Scope): string {
    return this.scopes.scopedTopic(base, scope);
  }

  /** The session list topic a person with this scope subscribes to instead of `topic`. */
  scopedListTopic(topic: string, scope: Scope): string {
    return this.scopes.scopedListTopic(topic, scope);
  }

  // ---- insights ----

  /** The insights page body of one filter set; its id names the filter set, so topics never share a rendering. */
  insightsBody(query: InsightsQuery): Fragment {
    const id = `insights__${createHash('sha1').update(insightsTopic(query)).digest('hex').slice(0, 12)}`;
    return lazyFragment(id, '/partials/insights-body', () => {
      const now = this.now();
      return insightsView(this.insights.report(query, now), query, now);
    });
  }

  /** A pool's bottleneck verdict, on its page. */
  poolVerdict(ns: string, name: string): Fragment {
    return lazyFragment(domId('pool-verdict', ns, name), '/partials/pool-verdict', () => ({
      verdict: this.insights.verdictOf(ns, name, this.now()),
      insightsHref: poolInsightsHref(ns, name),
    }));
  }

  /** Every watched insights page, when the figures moved (or, with `force`, as time moves the window). */
  private insightsUpdates(force = false): TopicFragment[] {
    if (!force && this.insights.revision === this.insightsSeen) return [];
    this.insightsSeen = this.insights.revision;
    const out: TopicFragment[] = [];
    for (const topic of this.insightsTopics) {
      const q = topicQuery(topic);
      if (q) out.push({ topic, fragment: this.insightsBody(q) });
    }
    return out;
  }

  // ---- farm overview ----

  // The farm-wide sums are lazy: a watch event's pool and device changes mark them more than
  // once per flush, and with scopes once per distinct view; only what the flush renders is summed.
  // `renderKey` names a scope's copy (see affected).

  farmTotals(scope?: Scope, renderKey?: string): Fragment {
    return lazyFragment('farm-totals', '/partials/farm-totals', () => ({ totals: farmTotals(this.scopedPools(scope)) }), renderKey);
  }

  /** The overview's strip of what needs a look; its hrefs are built here, not in the template. */
  farmAttention(scope?: Scope, renderKey?: string): Fragment {
    return lazyFragment(
      'farm-attention',
      '/partials/farm-attention',
      () => ({ attention: attentionView(this.attention, this.insights, this.scopedPools(scope), this.now(), scope) }),
      renderKey,
    );
  }

  farmPools(scope?: Scope, renderKey?: string): Fragment {
    return lazyFragment('farm-pools', '/partials/farm-pools', () => this.poolCards(scope), renderKey);
  }

  poolCard(ns: string, name: string): Fragment | undefined {
    const pool = this.store.getPool(ns, name);
    return pool && fragment(domId('pool-card', ns, name), '/partials/pool-card', { pool: poolCard(pool) });
  }

  // ---- pools list ----

  poolsTable(scope?: Scope, renderKey?: string): Fragment {
    return lazyFragment('pools-table', '/partials/pools-table', () => this.poolCards(scope), renderKey);
  }

  /** The farm page's cards and the pools table's rows read the same data. */
  private poolCards(scope: Scope | undefined): Record<string, unknown> {
    return { pools: this.scopedPools(scope).map((p) => poolCard(p)), synced: this.store.syncStatus().synced };
  }

  poolRow(ns: string, name: string): Fragment | undefined {
    const pool = this.store.getPool(ns, name);
    return pool && fragment(domId('pool-row', ns, name), '/partials/pool-row', { pool: poolCard(pool) });
  }

  // ---- one pool ----

  poolHeader(ns: string, name: string): Fragment {
    return fragment(domId('pool-header', ns, name), '/partials/pool-header', poolHeaderView(this.store, ns, name, this.now()));
  }

  /** Lazy: a status that adds 1,000 devices marks the grid once per added device (it was built 1,000 times at start). */
  deviceGrid(ns: string, name: string): Fragment {
    return lazyFragment(domId('device-grid', ns, name), '/partials/device-grid', () => deviceGridView(this.store, ns, name, this.now()));
  }

  /** The live counts on a pool page's filter chips: one small region per state. */
  stateCounts(ns: string, name: string): Fragment[] {
    const pool = this.store.getPool(ns, name);
    const counts = pool ? countDevices(pool.devices) : undefined;
    return DEVICE_STATES.map((state) => fragment(stateCountId(ns, name, state), '/partials/state-count', { count: counts?.[state] ?? 0 }));
  }

  /** A device wall's data (hidden on the page: public/app.js frames what it shows). */
  wallState(ns: string, name: string): Fragment {
    return lazyFragment(domId('wall-state', ns, name), '/partials/wall-state', () => wallView(this.store, this.policy, ns, name));
  }

  deviceTile(ns: string, name: string, device: string): Fragment | undefined {
    const pool = this.store.getPool(ns, name);
    const d = pool?.devices.find((x) => x.name === device);
    return pool && d ? fragment(domId('tile', ns, name, device), '/partials/device-tile', { tile: deviceTile(this.store, pool, d, this.now()) }) : undefined;
  }

  // ---- one device ----

  deviceFacts(ns: string, pool: string, device: string): Fragment {
    // Lazy: session changes name device topics too, and most have no viewer.
    return lazyFragment(domId('device-facts', ns, pool, device), '/partials/device-facts', () => deviceFactsView(this.store, this.policy, ns, pool, device, this.now()));
  }

  liveBadge(): Fragment {
    return fragment('live-badge', '/partials/live-badge', { badge: liveBadgeView(this.store.syncStatus()) });
  }

  /** One session's page body below its title: phase, progress, facts, artifacts, timeline. */
  sessionDetail(ns: string, name: string): Fragment {
    return lazyFragment(domId('session', ns, name), '/partials/session-detail', () => sessionDetailData(this.store, this.policy, ns, name, this.now(), (...args) => this.insights.queuePlace(...args)));
  }

  /** The runner log panel below a session's detail: a status line and the log's tail. */
  sessionLog(ns: string, name: string): Fragment | undefined {
    const data = this.logs?.panel(ns, name);
    return data && { id: data.id, template: '/partials/session-log', data };
  }

  // ---- for the broker ----

  /** Everything a topic's subscriber needs on (re)connect, so it can never be left stale. */
  snapshot(topic: string): Fragment[] {
    const badge = this.liveBadge();
    const scoped = splitScoped(topic);
    if (scoped) {
      // An unknown scope shows nothing rather than everything.
      const scope = this.scopes.get(scoped.id);
      if (scoped.base === topics.farm) return [badge, this.farmTotals(scope), this.farmAttention(scope), this.farmPools(scope)];
      return [badge, this.poolsTable(scope)];
    }
    if (topic === topics.farm) return [badge, this.farmTotals(), this.farmAttention(), this.farmPools()];
    if (topic === topics.pools) return [badge, this.poolsTable()];
    if (isSessionListTopic(topic)) {
      const list = this.lists.snapshot(topic);
      return list ? [badge, list] : [badge];
    }
    const [kind, rest = ''] = splitTopic(topic);
    const parts = rest.split('/');
    if (isInsightsTopic(topic)) {
      const q = topicQuery(topic);
      return q ? [badge, this.insightsBody(q)] : [badge];
    }
    if (kind === 'pool') return [badge, this.poolHeader(parts[0]!, parts[1]!), this.poolVerdict(parts[0]!, parts[1]!), ...this.stateCounts(parts[0]!, parts[1]!), this.deviceGrid(parts[0]!, parts[1]!)];
    if (kind === 'device') return [badge, this.deviceFacts(parts[0]!, parts[1]!, parts[2]!)];
    if (kind === 'wall') return [badge, this.wallState(parts[0]!, parts[1]!)];
    if (kind === 'session') return [badge, this.sessionDetail(parts[0]!, parts[1]!)];
    if (kind === 'log') {
      const panel = this.sessionLog(parts[0]!, parts[1]!);
      return panel ? [badge, panel] : [badge];
    }
    return [badge];
  }

  /** Which fragments of which topics a store change makes out of date. */
  affected(change: FarmChange): TopicFragment[] {
    const out = this.affectedUnscoped(change);
    if (this.scopes.activeCount === 0) return out;
    // The scoped farm-wide topics: sums recomputed for each scope, one pool's card or row
    // only where its namespace is in scope.
    const ns = change.kind === 'pool' ? change.view.namespace : change.kind === 'device' ? change.pool.namespace : undefined;
    const sessionNs = change.kind === 'session' ? change.view.namespace : undefined;
    const scopedOut: TopicFragment[] = [];
    for (const { topic, base, id, scope } of this.scopes.active()) {
      // A change outside the scope leaves its sums as they were: nothing to render for it.
      if (ns !== undefined && scope.pools && !scope.pools.has(ns)) continue;
      if (sessionNs !== undefined && scope.sessions && !scope.sessions.has(sessionNs)) continue;
      const seen = new Set<string>();
      for (const tf of out) {
        if (tf.topic !== base || seen.has(tf.fragment.id)) continue;
        seen.add(tf.fragment.id);
        const aggregate = this.aggregates.get(tf.fragment.id);
        if (aggregate) {
          scopedOut.push({ topic, fragment: aggregate(scope, `${tf.fragment.id}~${id}`) });
        } else if (ns !== undefined && (!scope.pools || scope.pools.has(ns))) {
          scopedOut.push({ topic, fragment: tf.fragment });
        }
      }
    }
    return [...out, ...scopedOut];
  }

  private affectedUnscoped(change: FarmChange): TopicFragment[] {
    const out: TopicFragment[] = this.insightsUpdates();
    const add = (topic: string, fragment: Fragment | undefined) => fragment && out.push({ topic, fragment });
    switch (change.kind) {
      case 'pool': {
        const { namespace: ns, name } = change.view;
        add(topics.farm, this.farmTotals());
        add(topics.farm, this.farmAttention());
        if (change.type === 'modified') {
          add(topics.farm, this.poolCard(ns, name));
          add(topics.pools, this.poolRow(ns, name));
        } else {
          add(topics.farm, this.farmPools());
          add(topics.pools, this.poolsTable());
        }
        add(topics.pool(ns, name), this.poolHeader(ns, name));
        add(topics.pool(ns, name), this.poolVerdict(ns, name));
        for (const count of this.stateCounts(ns, name)) add(topics.pool(ns, name), count);
        if (change.type === 'deleted') add(topics.pool(ns, name), this.deviceGrid(ns, name));
        add(topics.wall(ns, name), this.wallState(ns, name));
        break;
      }
      case 'device': {
        const { namespace: ns, name } = change.pool;
        if (change.device.state === 'Unhealthy' || change.old?.state === 'Unhealthy' || change.device.message !== change.old?.message) add(topics.farm, this.farmAttention());
        if (change.type === 'modified') add(topics.pool(ns, name), this.deviceTile(ns, name, change.device.name));
        else add(topics.pool(ns, name), this.deviceGrid(ns, name));
        if (change.device.state !== change.old?.state) {
          add(topics.pool(ns, name), this.poolVerdict(ns, name));
          if (change.device.state === 'Idle' || change.old?.state === 'Idle') add(topics.farm, this.farmAttention());
        }
        add(topics.device(ns, name, change.device.name), this.deviceFacts(ns, name, change.device.name));
        add(topics.wall(ns, name), this.wallState(ns, name));
        break;
      }
      case 'session':
        out.push(...this.lists.affected(change));
        if (change.view.phase !== change.old?.phase) {
          add(topics.farm, this.farmAttention());
          add(topics.pool(change.view.namespace, change.view.spec.poolName), this.poolVerdict(change.view.namespace, change.view.spec.poolName));
        }
        add(topics.session(change.view.namespace, change.view.name), this.sessionDetail(change.view.namespace, change.view.name));
        // A device page shows the lease that holds the device and those waiting for it.
        for (const device of new Set([change.view.device?.name, change.old?.device?.name, change.view.spec.deviceName, change.old?.spec.deviceName])) {
          if (device) add(topics.device(change.view.namespace, change.view.spec.poolName, device), this.deviceFacts(change.view.namespace, change.view.spec.poolName, device));
        }
        break;
      case 'event': {
        const { kind, namespace, name } = change.view.involved;
        if (kind === 'TestSession') add(topics.session(namespace, name), this.sessionDetail(namespace, name));
        // A runner pod's Events show on its session's page.
        if (kind === 'Pod') for (const s of this.store.sessionsInPod(namespace, name)) add(topics.session(s.namespace, s.name), this.sessionDetail(s.namespace, s.name));
        break;
      }
      case 'template':
        for (const pool of this.store.listPools(change.view.namespace)) {
          if (pool.templateName === change.view.name) add(topics.pool(pool.namespace, pool.name), this.poolHeader(pool.namespace, pool.name));
        }
        break;
      case 'sync': {
        const badge = this.liveBadge();
        out.push({ topic: '*', fragment: badge });
        // Pages that were waiting for the first list fill in once it arrives.
        add(topics.farm, this.farmPools());
        add(topics.pools, this.poolsTable());
        out.push(...this.lists.affected(change));
        break;
      }
      default:
        break;
    }
    return out;
  }

  /** Tiles whose stale-heartbeat flag flipped since the last check: time passes without changes. */
  staleFlips(previous: Map<string, boolean>): TopicFragment[] {
    // Time moves the insights window without any change: watched insights pages follow once a minute.
    const now = this.now();
    const out: TopicFragment[] = now - this.insightsTimeMarkedAt >= 60_000 ? this.insightsUpdates(true) : [];
    if (out.length) this.insightsTimeMarkedAt = now;
    const seen = new Set<string>();
    for (const pool of this.store.listPools()) {
      for (const d of pool.devices) {
        const k = `${key(pool.namespace, pool.name)}/${d.name}`;
        seen.add(k);
        const stale = isHeartbeatStale(d, this.now());
        if ((previous.get(k) ?? false) !== stale) {
          out.push({ topic: topics.pool(pool.namespace, pool.name), fragment: this.deviceTile(pool.namespace, pool.name, d.name)! });
          out.push({ topic: topics.device(pool.namespace, pool.name, d.name), fragment: this.deviceFacts(pool.namespace, pool.name, d.name) });
        }
        previous.set(k, stale);
      }
    }
    for (const k of [...previous.keys()]) if (!seen.has(k)) previous.delete(k);
    return out;
  }

  private scopedPools(scope: Scope | undefined): PoolView[] {
    const pools = this.store.listPools();
    return scope?.pools ? pools.filter((p) => scope.pools!.has(p.namespace)) : pools;
  }
}
