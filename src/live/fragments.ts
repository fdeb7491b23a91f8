// The page regions that change live, each with its element id, its template and its data
// from the store. Pages render these same fragments on first load, htmx swaps them, and
// the broker re-renders them on change: one template per region, whatever asks for it.
import { createHash } from 'node:crypto';
import { FarmAttention } from '../farm/attention.js';
import { FarmInsights, type InsightsQuery } from '../farm/insights/insights.js';
import { countDevices, isHeartbeatStale } from '../farm/devices.js';
import { farmTotals, summarisePool, type PoolSummary } from '../farm/stats.js';
import { key, type FarmChange, type FarmStore } from '../farm/store.js';
import { DEVICE_STATES, type DeviceState, type DeviceView, type PoolView, type SessionView } from '../farm/types.js';
import { extendedTimeout, isClaim, leaseEndsAt } from '../farm/lease.js';
import { timeView } from '../view/format.js';
import { checkURL, type UrlPolicy, type UrlVerdict } from '../view/url-policy.js';
import { stateCountId } from '../view/pool-filter.js';
import { insightsTopic, isInsightsTopic, topicQuery } from '../view/insights-query.js';
import { insightsView } from '../view/insights-view.js';
import { isSessionListTopic, listFilters, SessionLists, sessionListTopic, splitListScope, withListScope } from '../view/session-list.js';
import { domId } from './dom-id.js';
import { logTopic, type LogPanelData } from './log-panel.js';
import { sessionDetailData } from '../view/session-detail.js';

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

/**
 * What one person may see, for the farm-wide topics: namespaces per kind (undefined: all).
 * People with the same scope share one scoped topic ("farm~<id>"), rendered once for all of
 * them: the cost grows with the number of distinct scopes, not of people.
 */
export interface Scope {
  pools?: ReadonlySet<string> | undefined;
  sessions?: ReadonlySet<string> | undefined;
}

const SCOPED_BASES = new Set(['farm', 'pools']);
/** Fragments of the farm-wide topics that sum over pools: recomputed per scope. */
const AGGREGATES = new Set(['farm-totals', 'farm-attention', 'farm-pools', 'pools-table']);

export interface TopicFragment {
  topic: string;
  fragment: Fragment;
}

export interface DeviceTile {
  id: string;
  name: string;
  state: DeviceState;
  session: string;
  stale: boolean;
  message: string;
  /** Why an Unhealthy device is unhealthy, shown on the tile itself: the message's first line. */
  reason: string;
  href: string;
  /** The device is held by a lease (a claim without runner): who holds it. */
  lease: { holder: string } | undefined;
}

export const topics = {
  farm: 'farm',
  pools: 'pools',
  /** A session list: its filters and page, as in its URL (see src/view/session-list.ts). */
  sessions: sessionListTopic,
  pool: (namespace: string, name: string) => `pool:${namespace}/${name}`,
  device: (namespace: string, pool: string, device: string) => `device:${namespace}/${pool}/${device}`,
  /** A pool's device wall: every device with its stream; the page picks what it frames. */
  wall: (namespace: string, name: string) => `wall:${namespace}/${name}`,
  session: (namespace: string, name: string) => `session:${namespace}/${name}`,
  /** The runner log of a session: subscribing starts following its pod (see log-follower.ts). */
  log: logTopic,
  /** The insights page of one filter set (see src/view/insights-query.ts). */
  insights: insightsTopic,
};

/** Where the log panel's content comes from (LogFollowers). */
export interface LogPanelSource {
  panel(namespace: string, name: string): LogPanelData;
}

const TOPIC = /^(farm|pools|(?:pool|session|log|wall):[^/\s]{1,253}\/[^/\s]{1,253}|device:[^/\s]{1,253}\/[^/\s]{1,253}\/[^/\s]{1,253})$/;

export function isTopic(topic: string): boolean {
  return TOPIC.test(topic) || listFilters(topic) !== undefined || topicQuery(topic) !== undefined;
}

export const poolHref = (ns: string, name: string): string => `/pools/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
export const deviceHref = (ns: string, pool: string, device: string): string => `${poolHref(ns, pool)}/devices/${encodeURIComponent(device)}`;
export const sessionHref = (ns: string, name: string): string => `/sessions/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;

/** "farm~<id>" → its base topic and scope id; undefined for any other topic. */
export function splitScoped(topic: string): { base: string; id: string } | undefined {
  const i = topic.indexOf('~');
  if (i < 0) return undefined;
  const base = topic.slice(0, i);
  return SCOPED_BASES.has(base) ? { base, id: topic.slice(i + 1) } : undefined;
}

function fragment(id: string, template: string, data: Record<string, unknown>): Fragment {
  return { id, template, data: { ...data, id } };
}

/**
 * A fragment whose data is gathered only when someone reads it: the broker renders only
 * topics that have subscribers, so a change to one of 50,000 sessions costs nothing for
 * the 49,999 session pages nobody has open.
 */
function lazyFragment(id: string, template: string, build: () => Record<string, unknown>): Fragment {
  let data: Record<string, unknown> | undefined;
  return {
    id,
    template,
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

  constructor(
    private readonly store: FarmStore,
    private readonly policy: UrlPolicy,
    private readonly now: () => number = Date.now,
    private readonly logs?: LogPanelSource,
  ) {
    this.lists = new SessionLists(store, now, (id) => this.scopes.get(id)?.sessions ?? (this.scopes.has(id) ? undefined : new Set<string>()));
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
    if (isSessionListTopic(topic)) {
      this.lists.onTopic(topic, active);
      const { scopeId } = splitListScope(topic);
      if (scopeId === undefined) return;
      if (active) this.activeLists.add(topic);
      else {
        this.activeLists.delete(topic);
        this.forgetScope(scopeId);
      }
      return;
    }
    const scoped = splitScoped(topic);
    if (!scoped) return;
    if (active) this.activeScoped.add(topic);
    else {
      this.activeScoped.delete(topic);
      this.forgetScope(scoped.id);
    }
  }

  /** Drops a scope nobody subscribes to any more. */
  private forgetScope(id: string): void {
    if ([...this.activeScoped].some((t) => splitScoped(t)?.id === id)) return;
    if ([...this.activeLists].some((t) => splitListScope(t).scopeId === id)) return;
    this.scopes.delete(id);
  }

  private readonly activeLists = new Set<string>();

  private readonly scopes = new Map<string, Scope>();
  private readonly activeScoped = new Set<string>();

  /** Scoped farm-wide topics with subscribers: one per distinct view of the farm. */
  get scopedTopicCount(): number {
    return this.activeScoped.size;
  }

  /** The session list topic a person with this scope subscribes to instead of `topic`. */
  scopedListTopic(topic: string, scope: Scope): string {
    return withListScope(topic, splitScoped(this.scopedTopic('farm', scope))!.id);
  }

  /** The topic a person with this scope subscribes to instead of "farm" or "pools". */
  scopedTopic(base: string, scope: Scope): string {
    const id = createHash('sha256')
      .update(JSON.stringify([scope.pools ? [...scope.pools].sort() : null, scope.sessions ? [...scope.sessions].sort() : null]))
      .digest('base64url')
      .slice(0, 16);
    this.scopes.set(id, scope);
    return `${base}~${id}`;
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
      insightsHref: `/insights?${new URLSearchParams({ window: '24h', namespace: ns, pool: name })}`,
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

  farmTotals(scope?: Scope): Fragment {
    const pools = this.scopedPools(scope);
    return fragment('farm-totals', '/partials/farm-totals', { totals: farmTotals(pools) });
  }

  private scopedPools(scope: Scope | undefined): PoolView[] {
    const pools = this.store.listPools();
    return scope?.pools ? pools.filter((p) => scope.pools!.has(p.namespace)) : pools;
  }

  /** The overview's strip of what needs a look; its hrefs are built here, not in the template. */
  farmAttention(scope?: Scope): Fragment {
    return lazyFragment('farm-attention', '/partials/farm-attention', () => {
      const now = this.now();
      const a = this.attention.view(now, 5, scope);
      const bottlenecks = this.scopedPools(scope)
        .map((p) => ({ namespace: p.namespace, pool: p.name, verdict: this.insights.verdictOf(p.namespace, p.name, now) }))
        .filter((b) => b.verdict.status === 'bottleneck')
        .map((b) => ({ pool: b.pool, summary: b.verdict.summary, href: poolHref(b.namespace, b.pool) }));
      return {
        attention: {
          ...a,
          calm: a.calm && bottlenecks.length === 0,
          bottlenecks,
          insightsHref: '/insights',
          unhealthy: a.unhealthy.map((d) => ({ ...d, reason: firstLine(d.reason), href: deviceHref(d.namespace, d.pool, d.device) })),
          waiting: a.waiting.map((w) => ({ ...w, href: poolHref(w.namespace, w.pool) })),
          failedHref: '/sessions?phase=Failed&phase=TimedOut',
        },
      };
    });
  }

  farmPools(scope?: Scope): Fragment {
    const pools = this.scopedPools(scope).map((p) => this.cardData(p));
    return fragment('farm-pools', '/partials/farm-pools', { pools, synced: this.store.syncStatus().synced });
  }

  poolCard(ns: string, name: string): Fragment | undefined {
    const pool = this.store.getPool(ns, name);
    return pool && fragment(domId('pool-card', ns, name), '/partials/pool-card', { pool: this.cardData(pool) });
  }

  // ---- pools list ----

  poolsTable(scope?: Scope): Fragment {
    const pools = this.scopedPools(scope).map((p) => this.cardData(p));
    return fragment('pools-table', '/partials/pools-table', { pools, synced: this.store.syncStatus().synced });
  }

  poolRow(ns: string, name: string): Fragment | undefined {
    const pool = this.store.getPool(ns, name);
    return pool && fragment(domId('pool-row', ns, name), '/partials/pool-row', { pool: this.cardData(pool) });
  }

  // ---- one pool ----

  poolHeader(ns: string, name: string): Fragment {
    const pool = this.store.getPool(ns, name);
    const template = pool ? this.store.getTemplate(ns, pool.templateName) : undefined;
    return fragment(domId('pool-header', ns, name), '/partials/pool-header', {
        namespace: ns,
        name,
        pool: pool && this.cardData(pool),
        template: template && { name: template.name, androidVersion: template.androidVersion, avdProfile: template.avdProfile, backend: template.emulationBackend },
        conditions: pool?.conditions ?? [],
        staleDevices: pool ? pool.devices.filter((d) => isHeartbeatStale(d, this.now())).length : 0,
        // Before the first list, a missing pool or template is not known to be missing.
        synced: this.store.syncStatus().synced,
    });
  }

  deviceGrid(ns: string, name: string): Fragment {
    const pool = this.store.getPool(ns, name);
    return fragment(domId('device-grid', ns, name), '/partials/device-grid', {
        namespace: ns,
        name,
        exists: pool !== undefined,
        synced: this.store.syncStatus().synced,
        tiles: pool ? pool.devices.map((d) => this.tileData(pool, d)).sort((a, b) => naturalCompare(a.name, b.name)) : [],
    });
  }

  /** The live counts on a pool page's filter chips: one small region per state. */
  stateCounts(ns: string, name: string): Fragment[] {
    const pool = this.store.getPool(ns, name);
    const counts = pool ? countDevices(pool.devices) : undefined;
    return DEVICE_STATES.map((state) => fragment(stateCountId(ns, name, state), '/partials/state-count', { count: counts?.[state] ?? 0 }));
  }

  /**
   * A device wall's data: each device of the pool with its state, session and stream (under
   * the URL policy). Hidden on the page; public/app.js frames the busy (or picked) devices
   * and keeps the frames it already has, so a live update never reloads a stream.
   */
  wallState(ns: string, name: string): Fragment {
    return lazyFragment(domId('wall-state', ns, name), '/partials/wall-state', () => {
      const pool = this.store.getPool(ns, name);
      const devices = pool ? [...pool.devices].sort((a, b) => naturalCompare(a.name, b.name)) : [];
      return {
        exists: pool !== undefined,
        synced: this.store.syncStatus().synced,
        devices: devices.map((d) => ({
          key: domId('wall-frame', ns, name, d.name),
          name: d.name,
          state: d.state,
          session: d.session,
          href: deviceHref(ns, name, d.name),
          stream: this.checkStream(d.streamURL),
        })),
      };
    });
  }

  deviceTile(ns: string, name: string, device: string): Fragment | undefined {
    const pool = this.store.getPool(ns, name);
    const d = pool?.devices.find((x) => x.name === device);
    return pool && d ? fragment(domId('tile', ns, name, device), '/partials/device-tile', { tile: this.tileData(pool, d) }) : undefined;
  }

  // ---- one device ----

  deviceFacts(ns: string, pool: string, device: string): Fragment {
    // Lazy: session changes name device topics too, and most have no viewer.
    return lazyFragment(domId('device-facts', ns, pool, device), '/partials/device-facts', () => {
      const p = this.store.getPool(ns, pool);
      const d = p?.devices.find((x) => x.name === device);
      const session = d?.session ? this.store.getSession(ns, d.session) : undefined;
      const now = this.now();
      return {
        namespace: ns,
        pool,
        name: device,
        device: d,
        synced: this.store.syncStatus().synced,
        stale: d ? isHeartbeatStale(d, now) : false,
        stream: d ? this.checkStream(d.streamURL) : ({ ok: false, reason: 'no such device' } satisfies UrlVerdict),
        appium: d ? this.checkStream(d.appiumURL) : undefined,
        session: session && { name: session.name, phase: session.phase, href: sessionHref(ns, session.name) },
        // Read by the page's Restart button (outside this region) when it asks for confirmation.
        restartConfirm: d ? restartQuestion(d) : '',
        lease: session && isClaim(session) ? this.leaseData(session, device, now) : undefined,
        // Leases that wait for this very device, oldest first: a second lease queues behind the first.
        waiting: p && d ? this.store.sessionsOfPool(ns, pool).filter((s) => s.phase === 'Pending' && s.spec.deviceName === device).sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0)).map((s) => ({ name: s.name, href: sessionHref(ns, s.name), holder: s.lease?.holder ?? '', reason: s.lease?.reason ?? '' })) : [],
        times: { bootStarted: timeView(d?.bootStartedAt, now), ready: timeView(d?.readyAt, now), heartbeat: timeView(d?.lastHeartbeatAt, now) },
      };
    });
  }

  /** What the device page says about the lease that holds the device, and what Release asks. */
  private leaseData(s: SessionView, device: string, now: number) {
    return {
      session: s.name,
      href: sessionHref(s.namespace, s.name),
      phase: s.phase,
      holder: s.lease?.holder ?? '',
      reason: s.lease?.reason ?? '',
      endsAt: timeView(leaseEndsAt(s), now),
      extendable: extendedTimeout(s.spec.timeoutSeconds) !== undefined,
      releasing: s.spec.cancelRequested,
      releaseConfirm: `Release device ${device}? Lease ${s.name}${s.lease?.holder ? ` held by ${s.lease.holder}` : ''} ends (Stop), and the device goes back to the pool.`,
    };
  }

  liveBadge(): Fragment {
    return fragment('live-badge', '/partials/live-badge', { sync: this.store.syncStatus() });
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
      const scope = this.scopes.get(scoped.id) ?? { pools: new Set<string>(), sessions: new Set<string>() };
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
    if (this.activeScoped.size === 0) return out;
    // The scoped farm-wide topics: sums recomputed for each scope, one pool's card or row
    // only where its namespace is in scope.
    const ns = change.kind === 'pool' ? change.view.namespace : change.kind === 'device' ? change.pool.namespace : undefined;
    const sessionNs = change.kind === 'session' ? change.view.namespace : undefined;
    const scopedOut: TopicFragment[] = [];
    for (const topic of this.activeScoped) {
      const { base, id } = splitScoped(topic)!;
      const scope = this.scopes.get(id);
      if (!scope) continue;
      // A change outside the scope leaves its sums as they were: nothing to render for it.
      if (ns !== undefined && scope.pools && !scope.pools.has(ns)) continue;
      if (sessionNs !== undefined && scope.sessions && !scope.sessions.has(sessionNs)) continue;
      const seen = new Set<string>();
      for (const tf of out) {
        if (tf.topic !== base || seen.has(tf.fragment.id)) continue;
        seen.add(tf.fragment.id);
        if (AGGREGATES.has(tf.fragment.id)) {
          const f = tf.fragment.id === 'farm-totals' ? this.farmTotals(scope) : tf.fragment.id === 'farm-attention' ? this.farmAttention(scope) : tf.fragment.id === 'farm-pools' ? this.farmPools(scope) : this.poolsTable(scope);
          scopedOut.push({ topic, fragment: { ...f, renderKey: `${f.id}~${id}` } });
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

  checkStream(raw: string): UrlVerdict {
    return checkURL(raw, this.policy);
  }

  private cardData(pool: PoolView): PoolSummary & { id: string; rowId: string; href: string } {
    return { ...summarisePool(pool), id: domId('pool-card', pool.namespace, pool.name), rowId: domId('pool-row', pool.namespace, pool.name), href: poolHref(pool.namespace, pool.name) };
  }

  private tileData(pool: PoolView, d: DeviceView): DeviceTile {
    return {
      id: domId('tile', pool.namespace, pool.name, d.name),
      name: d.name,
      state: d.state,
      session: d.session,
      stale: isHeartbeatStale(d, this.now()),
      message: d.message,
      reason: d.state === 'Unhealthy' ? firstLine(d.message) : '',
      href: deviceHref(pool.namespace, pool.name, d.name),
      lease: this.leaseOf(pool.namespace, d),
    };
  }

  /** A tile's lease mark: the device's session is a claim. */
  private leaseOf(namespace: string, d: DeviceView): { holder: string } | undefined {
    const s = d.session ? this.store.getSession(namespace, d.session) : undefined;
    return s && isClaim(s) ? { holder: s.lease?.holder ?? '' } : undefined;
  }
}

/** What Restart asks before deleting a device's pod: it names the session it would end. */
export function restartQuestion(d: DeviceView): string {
  const pod = d.podName ? `its pod ${d.podName} is deleted and the pool recreates it` : 'it reports no pod yet, so there is nothing to restart';
  return `Restart device ${d.name}? ${pod[0]!.toUpperCase()}${pod.slice(1)}.${d.session ? ` Session ${d.session} on it ends.` : ' No session is on it.'}`;
}

/** The first non-empty line of a message, short enough for a tile. */
function firstLine(message: string): string {
  const line = message.split(/\r\n|\r|\n/).find((l) => l.trim() !== '') ?? '';
  return line.length > 80 ? `${line.slice(0, 79)}...` : line;
}

export function splitTopic(topic: string): [string, string | undefined] {
  const i = topic.indexOf(':');
  return i < 0 ? [topic, undefined] : [topic.slice(0, i), topic.slice(i + 1)];
}

// One collator for every comparison: localeCompare with a locale or options builds a new
// ICU collator per call, which made sorting a 1,000-device grid most of its render time.
const NATURAL = new Intl.Collator('en', { numeric: true });

/** Device names end in an index: pool-2 sorts before pool-10. */
export function naturalCompare(a: string, b: string): number {
  return NATURAL.compare(a, b);
}

export function parseStateFilter(raw: unknown): DeviceState[] {
  const values = (Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : []).map(String);
  return DEVICE_STATES.filter((s) => values.some((v) => v.toLowerCase() === s.toLowerCase()));
}
