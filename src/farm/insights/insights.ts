// FarmInsights: the farm's history as the cluster holds it, kept from the store's session
// changes (one PoolHistory per pool, updated per change, never re-walked) and read as a
// report per window and filter. Reports are cached per query until the next change (or a
// few seconds, as time passes), so the page, the JSON API and the live topic share one.
import { key, type FarmChange, type FarmStore } from '../store.js';
import type { PoolView } from '../types.js';
import { factsOf } from './facts.js';
import { PoolHistory } from './history.js';
import { figuresOf, poolExtras, slotOf, type FarmInsightsReport, type PoolInsights } from './report.js';
import { deviceHistoryOf, type DeviceHistory } from './device-history.js';
import { UnhealthyEpisodes, type EpisodeOptions } from './unhealthy-episodes.js';
import { queuePlaceOf, type QueuePlace } from './queue-eta.js';
import { emptyTally, flat, mergeInto, type Tally } from './tally.js';
import { mean, selectPercentile } from './percentile.js';
import { verdictOf, type Verdict } from './verdict.js';
import { HOUR_MS, slotsOf, WINDOWS, type WindowName } from './window.js';

export interface InsightsQuery {
  window: WindowName;
  namespace?: string | undefined;
  pool?: string | undefined;
  template?: string | undefined;
}

/** A report is reused for this long when nothing changed: time moves the window too. */
const REUSE_MS = 5_000;

export class FarmInsights {
  private readonly histories = new Map<string, PoolHistory>();
  private readonly cache = new Map<string, { version: number; at: number; report: FarmInsightsReport }>();
  private readonly poolParts = new Map<string, { version: number; pool: PoolView | undefined; oldest: number | null; at: number; slots: number; firstSlot: number | undefined; part: PoolPart }>();
  private version = 0;
  /** The last verdict per pool, with the figures' version and the second it was worked out in. */
  private readonly verdicts = new Map<string, { version: number; second: number; verdict: Verdict }>();
  /** Unhealthy episodes this dashboard saw (the cluster keeps none): for the device page. */
  readonly unhealthy: UnhealthyEpisodes;

  constructor(
    private readonly store: FarmStore,
    options: { episodes?: EpisodeOptions } = {},
  ) {
    this.unhealthy = new UnhealthyEpisodes(store, options.episodes);
    for (const s of store.allSessions()) this.history(key(s.namespace, s.spec.poolName)).apply(key(s.namespace, s.name), factsOf(s));
    store.subscribe((change) => this.apply(change));
  }

  /** Whether a change moved any figure (a progress tick does not). */
  apply(change: FarmChange): boolean {
    let changed = false;
    if (change.kind === 'session') {
      const k = change.key;
      const oldPool = change.old && key(change.old.namespace, change.old.spec.poolName);
      const newPool = key(change.view.namespace, change.view.spec.poolName);
      if (oldPool && oldPool !== newPool) changed = this.history(oldPool).apply(k, undefined) || changed;
      changed = this.history(newPool).apply(k, change.type === 'deleted' ? undefined : factsOf(change.view)) || changed;
    } else if (change.kind === 'pool' || (change.kind === 'device' && change.device.state !== change.old?.state)) {
      changed = true;
    }
    if (changed) this.version++;
    return changed;
  }

  get revision(): number {
    return this.version;
  }

  report(query: InsightsQuery, now: number): FarmInsightsReport {
    const k = JSON.stringify([query.window, query.namespace ?? '', query.pool ?? '', query.template ?? '']);
    const hit = this.cache.get(k);
    if (hit && hit.version === this.version && now - hit.at < REUSE_MS && now >= hit.at) return hit.report;
    const report = this.build(query, now);
    if (this.cache.size > 100) this.cache.clear();
    this.cache.set(k, { version: this.version, at: now, report });
    return report;
  }

  /** One device's last 24 hours: the sessions that ended on it, against the rest of its pool (device-history.ts). */
  deviceHistory(namespace: string, pool: string, device: string, now: number): DeviceHistory {
    const seen = { ...this.unhealthy.episodesOf(namespace, pool, device), since: this.unhealthy.since };
    const current = this.store.getPool(namespace, pool)?.devices.find((d) => d.name === device);
    return deviceHistoryOf(this.history(key(namespace, pool)), this.report({ window: '24h', namespace, pool }, now), pool, device, now, seen, current);
  }

  /** Where a Pending session stands in its pool's queue, and how long it may wait (queue-eta.ts). */
  queuePlace(namespace: string, pool: string, session: string, now: number): QueuePlace | undefined {
    const h = this.histories.get(key(namespace, pool));
    return h && queuePlaceOf(h, key(namespace, session), now);
  }

  private build(query: InsightsQuery, now: number): FarmInsightsReport {
    const from = now - WINDOWS[query.window].ms;
    const pools = this.poolsOf(query);
    let oldest: number | null = null;
    for (const { history } of pools) {
      const o = history.oldest();
      if (o !== undefined && (oldest === null || o < oldest)) oldest = o;
    }
    const covered = { from: Math.max(from, oldest ?? now), to: now };
    const window = { from, to: now };
    const slots = slotsOf(query.window, now);
    const farmTally = emptyTally();
    const farmSlots = slots.map(() => ({ tally: emptyTally(), devices: 0 }));
    const byTemplate = new Map<string, { tally: Tally; devices: number; pools: number; waiting: number; running: number; only: PoolInsights }>();
    const out: PoolInsights[] = [];
    let farmDevices = 0;
    const farmLive = { waiting: 0, running: 0 };
    const allDevices = [];
    for (const entry of pools) {
      const { tally, slotTallies, size, live, insights } = this.poolPart(query.window, entry, slots, window, covered, oldest, now);
      const pool = entry.pool;
      slotTallies.forEach((t, i) => {
        mergeInto(farmSlots[i]!.tally, t, true);
        farmSlots[i]!.devices += size;
      });
      out.push(insights);
      const tk = pool?.templateName ?? '';
      let tt = byTemplate.get(tk);
      if (!tt) byTemplate.set(tk, (tt = { tally: emptyTally(), devices: 0, pools: 0, waiting: 0, running: 0, only: insights }));
      mergeInto(tt.tally, tally, true);
      tt.devices += size;
      tt.pools++;
      tt.waiting += live.waiting;
      tt.running += live.running;
      mergeInto(farmTally, tally);
      farmDevices += size;
      farmLive.waiting += live.waiting;
      farmLive.running += live.running;
      allDevices.push(...(pool?.devices ?? []));
    }
    const farm = figuresOf(farmTally, allDevices, farmDevices, window, covered, farmLive);
    return {
      window: query.window,
      from,
      to: now,
      coverage: { oldestSession: oldest, complete: oldest !== null && oldest <= from },
      farm: {
        ...farm,
        bottlenecks: out.filter((p) => p.bottleneck).length,
        suspectDevices: out.reduce((n, p) => n + p.suspectDevices.length, 0),
        series: slots.map((s, i) => slotOf(farmSlots[i]!.tally, farmSlots[i]!.devices, s, covered)),
      },
      templates: [...byTemplate]
        .filter(([t]) => t !== '')
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([template, t]) => {
          // A template used by one pool has that pool's figures: not computed twice.
          const f = t.pools === 1 ? t.only : figuresOf(t.tally, [], t.devices, window, covered, { waiting: t.waiting, running: t.running });
          return { template, pools: t.pools, sessions: f.sessions, passRate: f.passRate, queueWaitSeconds: f.queueWaitSeconds, runSeconds: f.runSeconds, utilisation: f.utilisation };
        }),
      pools: out,
    };
  }

  /**
   * One pool's part of a report. Reused from the last report of the same window while the
   * pool's sessions and devices are unchanged (and for a few seconds of time passing), so a
   * change costs one pool's figures, not the farm's.
   */
  private poolPart(windowName: WindowName, entry: PoolEntry, slots: Array<{ from: number; to: number }>, window: { from: number; to: number }, covered: { from: number; to: number }, oldest: number | null, now: number): PoolPart {
    const { namespace, name, pool, history } = entry;
    const k = `${windowName}|${namespace}/${name}`;
    const hit = this.poolParts.get(k);
    if (hit && hit.version === history.version && hit.pool === pool && hit.oldest === oldest && now >= hit.at && now - hit.at < REUSE_MS && hit.slots === slots.length && hit.firstSlot === slots[0]?.to) return hit.part;
    const tally = history.tally(window.from, now, now);
    const devices = pool?.devices ?? [];
    const size = devices.length;
    const live = { waiting: history.pending.size, running: history.open.size };
    const slotTallies = slots.map((s) => history.tally(s.from, s.to, now, true));
    const verdict = this.verdict(name, pool, history, now);
    const insights: PoolInsights = {
      namespace,
      pool: name,
      template: pool?.templateName ?? '',
      ...figuresOf(tally, devices, size, window, covered, live),
      bottleneck: verdict.status === 'healthy' ? null : verdict,
      verdict,
      ...poolExtras(tally),
      series: slotTallies.map((t, i) => slotOf(t, size, slots[i]!, covered)),
    };
    const part = { tally, slotTallies, size, live, insights };
    if (this.poolParts.size > 1000) this.poolParts.clear();
    this.poolParts.set(k, { version: history.version, pool, oldest, at: now, slots: slots.length, firstSlot: slots[0]?.to, part });
    return part;
  }

  /**
   * The pool's verdict from its devices now and its last hour. Asked once per pool by every
   * scoped view's attention strip in the same flush: the same figures in the same second give
   * the same verdict (its waits are whole seconds), so it is worked out once.
   */
  verdictOf(namespace: string, pool: string, now: number): Verdict {
    const k = key(namespace, pool);
    const second = Math.floor(now / 1000);
    const hit = this.verdicts.get(k);
    if (hit && hit.version === this.version && hit.second === second) return hit.verdict;
    const p = this.store.getPool(namespace, pool);
    const verdict = this.verdict(pool, p, this.history(k), now);
    if (p) this.verdicts.set(k, { version: this.version, second, verdict });
    else this.verdicts.delete(k);
    return verdict;
  }

  private verdict(name: string, pool: PoolView | undefined, history: PoolHistory, now: number): Verdict {
    const hour = history.tally(now - HOUR_MS, now, now, true);
    const devices = pool?.devices ?? [];
    let oldest: number | null = null;
    for (const f of history.pending.values()) {
      if (f.createdAt !== undefined) oldest = Math.max(oldest ?? 0, Math.max(0, now - f.createdAt) / 1000);
    }
    return verdictOf({
      pool: name,
      devices: devices.filter((d) => d.state !== 'Unhealthy').length,
      idle: devices.filter((d) => d.state === 'Idle').length,
      waiting: history.pending.size,
      oldestWaitSeconds: oldest === null ? null : Math.round(oldest),
      p95WaitSeconds: selectPercentile(flat(hour.waits), 95),
      arrivalsLastHour: hour.created,
      meanRunSeconds: mean(flat(hour.runs.length ? hour.runs : history.tally(now - 24 * HOUR_MS, now, now, true).runs)),
    });
  }

  private poolsOf(query: InsightsQuery): PoolEntry[] {
    const out = new Map<string, PoolEntry>();
    for (const pool of this.store.listPools(query.namespace)) {
      if (query.pool && pool.name !== query.pool) continue;
      if (query.template && pool.templateName !== query.template) continue;
      const k = key(pool.namespace, pool.name);
      out.set(k, { namespace: pool.namespace, name: pool.name, pool, history: this.history(k) });
    }
    // Sessions of a pool that is gone (or not yet seen) still count, unless a template is asked for.
    if (!query.template) {
      for (const [k, history] of this.histories) {
        if (out.has(k) || history.size === 0) continue;
        const [namespace, name] = k.split('/') as [string, string];
        if ((query.namespace && namespace !== query.namespace) || (query.pool && name !== query.pool)) continue;
        out.set(k, { namespace, name, pool: undefined, history });
      }
    }
    return [...out.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  }

  private history(k: string): PoolHistory {
    let h = this.histories.get(k);
    if (!h) this.histories.set(k, (h = new PoolHistory()));
    return h;
  }
}

interface PoolEntry {
  namespace: string;
  name: string;
  pool: PoolView | undefined;
  history: PoolHistory;
}

interface PoolPart {
  tally: Tally;
  slotTallies: Tally[];
  size: number;
  live: { waiting: number; running: number };
  insights: PoolInsights;
}
