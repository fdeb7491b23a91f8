// FarmStore: the dashboard's one in-memory picture of the farm, fed only by the watches.
// Eventually consistent with the API server and ordered per object (changes for one object
// arrive in watch order). Indexed by namespace, pool, device and session, and it announces
// every change at the finest grain that matters: one device, not its whole pool.
import { InternalErrors } from '../metrics/internal-errors.js';
import { countDevices, diffDevices } from './devices.js';
import { SessionOrder } from './session-order.js';
import { querySessions, type SessionPage, type SessionQuery } from './session-query.js';
import { DEVICE_STATES, type DeviceView, type EventView, type PoolView, type SessionView, type TemplateView } from './types.js';

export type ChangeType = 'added' | 'modified' | 'deleted';

export type FarmChange =
  | { kind: 'template'; type: ChangeType; key: string; view: TemplateView }
  /** A pool's own fields or counts changed (not sent for device-only changes that keep counts). */
  | { kind: 'pool'; type: ChangeType; key: string; view: PoolView; old?: PoolView }
  | { kind: 'device'; type: ChangeType; poolKey: string; pool: PoolView; device: DeviceView; old?: DeviceView }
  | { kind: 'session'; type: ChangeType; key: string; view: SessionView; old?: SessionView }
  | { kind: 'event'; type: ChangeType; key: string; view: EventView }
  /** The watches' health changed (synced, stale). */
  | { kind: 'sync'; status: SyncStatus };

export type FarmListener = (change: FarmChange) => void;

export interface SyncStatus {
  /** Every watched kind has been listed at least once. */
  synced: boolean;
  /** Some watch is currently failing: what is shown may be out of date. */
  stale: boolean;
  detail: string[];
  /** While stale: since when (epoch ms). The data shown is as of then. */
  staleSince?: number | undefined;
  /** Reads the API server refused (403) on their last attempt: what the pages cannot show. */
  forbidden?: ForbiddenRead[];
}

/** A list or watch the dashboard's Kubernetes identity may not do, and where. */
export interface ForbiddenRead {
  verb: 'list' | 'watch';
  /** The plural, as RBAC names it (testsessions). */
  resource: string;
  /** The API group, as RBAC names it ('' for core). */
  group: string;
  /** Undefined: all namespaces. */
  namespace: string | undefined;
}

export const key = (namespace: string, name: string): string => `${namespace}/${name}`;

export class FarmStore {
  /** Failures caught inside the dashboard, logged and counted; everyone holding the store reports here. */
  readonly errors: InternalErrors;
  private readonly templates = new Map<string, TemplateView>();
  private readonly pools = new Map<string, PoolView>();
  /** listPools() in order, until the next pool change. */
  private sortedPools: PoolView[] | undefined;
  private readonly sessions = new Map<string, SessionView>();
  private readonly sessionsByPool = new Map<string, Set<string>>();
  private readonly sessionOrder = new SessionOrder();
  private readonly events = new Map<string, EventView>();
  private readonly eventsByObject = new Map<string, Set<string>>();
  /** Runner pods (namespace/pod) → the sessions naming them in status.podName. */
  private readonly runnerPods = new Map<string, Set<string>>();
  private readonly listeners = new Set<FarmListener>();
  private sync: SyncStatus = { synced: false, stale: false, detail: ['not started'] };

  constructor(options: { errors?: InternalErrors } = {}) {
    this.errors = options.errors ?? new InternalErrors();
  }

  subscribe(listener: FarmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- writes: only the watch layer calls these ----

  applyTemplate(type: ChangeType, view: TemplateView): void {
    const k = key(view.namespace, view.name);
    if (type === 'deleted') this.templates.delete(k);
    else this.templates.set(k, view);
    this.emit({ kind: 'template', type, key: k, view });
  }

  applyPool(type: ChangeType, view: PoolView): void {
    const k = key(view.namespace, view.name);
    const old = this.pools.get(k);
    if (type === 'deleted') {
      this.pools.delete(k);
      this.sortedPools = undefined;
      this.emit({ kind: 'pool', type, key: k, view, ...(old ? { old } : {}) });
      return;
    }
    this.pools.set(k, view);
    this.sortedPools = undefined;
    const diffs = diffDevices(old?.devices ?? [], view.devices);
    if (!old || poolSummaryChanged(old, view)) {
      this.emit({ kind: 'pool', type: old ? 'modified' : 'added', key: k, view, ...(old ? { old } : {}) });
    }
    for (const diff of diffs) {
      this.emit({
        kind: 'device',
        type: diff.type === 'removed' ? 'deleted' : diff.type,
        poolKey: k,
        pool: view,
        device: diff.device,
        ...(diff.type === 'modified' ? { old: diff.old } : {}),
      });
    }
  }

  applySession(type: ChangeType, view: SessionView): void {
    const k = key(view.namespace, view.name);
    const old = this.sessions.get(k);
    if (old) {
      indexRemove(this.sessionsByPool, key(old.namespace, old.spec.poolName), k);
      if (old.podName) indexRemove(this.runnerPods, key(old.namespace, old.podName), k);
      this.sessionOrder.remove(old);
    }
    if (type === 'deleted') this.sessions.delete(k);
    else {
      this.sessions.set(k, view);
      indexAdd(this.sessionsByPool, key(view.namespace, view.spec.poolName), k);
      if (view.podName) indexAdd(this.runnerPods, key(view.namespace, view.podName), k);
      this.sessionOrder.insert(view);
    }
    this.emit({ kind: 'session', type, key: k, view, ...(old ? { old } : {}) });
  }

  applyEvent(type: ChangeType, view: EventView): void {
    const k = key(view.namespace, view.name);
    const involved = involvedKey(view.involved.kind, view.involved.namespace, view.involved.name);
    if (type === 'deleted') {
      this.events.delete(k);
      indexRemove(this.eventsByObject, involved, k);
    } else {
      this.events.set(k, view);
      indexAdd(this.eventsByObject, involved, k);
    }
    this.emit({ kind: 'event', type, key: k, view });
  }

  setSync(status: SyncStatus): void {
    const changed = JSON.stringify(status) !== JSON.stringify(this.sync);
    this.sync = status;
    if (changed) this.emit({ kind: 'sync', status });
  }

  // ---- reads: routes and the broker ----

  syncStatus(): SyncStatus {
    return this.sync;
  }

  listTemplates(): TemplateView[] {
    return sortByKey([...this.templates.values()]);
  }

  getTemplate(namespace: string, name: string): TemplateView | undefined {
    return this.templates.get(key(namespace, name));
  }

  listPools(namespace?: string): PoolView[] {
    // Sorted once per pool change, not per call: the farm-wide sums ask once per scope.
    this.sortedPools ??= sortByKey([...this.pools.values()]);
    return namespace === undefined ? [...this.sortedPools] : this.sortedPools.filter((p) => p.namespace === namespace);
  }

  getPool(namespace: string, name: string): PoolView | undefined {
    return this.pools.get(key(namespace, name));
  }

  getDevice(namespace: string, pool: string, device: string): DeviceView | undefined {
    return this.getPool(namespace, pool)?.devices.find((d) => d.name === device);
  }

  getSession(namespace: string, name: string): SessionView | undefined {
    return this.sessions.get(key(namespace, name));
  }

  /** Newest first, filtered and paged (see session-query.ts); throws QueryError on bad input. */
  querySessions(query: SessionQuery): SessionPage {
    return querySessions(this.sessionOrder, query);
  }

  sessionsOfPool(namespace: string, pool: string): SessionView[] {
    const keys = this.sessionsByPool.get(key(namespace, pool)) ?? new Set();
    return [...keys].map((k) => this.sessions.get(k)!).filter(Boolean);
  }

  /** The namespaces that hold sessions, from the per-pool index (never a walk of every session). */
  sessionNamespaces(): Set<string> {
    const out = new Set<string>();
    for (const k of this.sessionsByPool.keys()) out.add(k.slice(0, k.indexOf('/')));
    return out;
  }

  /** How many sessions these namespaces hold, from the per-pool index. */
  sessionCountIn(namespaces: ReadonlySet<string>): number {
    let n = 0;
    for (const [k, members] of this.sessionsByPool) if (namespaces.has(k.slice(0, k.indexOf('/')))) n += members.size;
    return n;
  }

  /** Every session, in no particular order (for totals such as /metrics). */
  allSessions(): IterableIterator<SessionView> {
    return this.sessions.values();
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  /** Whether some session runs in this pod: only such pods' Events are kept. */
  isRunnerPod(namespace: string, pod: string): boolean {
    return this.runnerPods.has(key(namespace, pod));
  }

  /** The sessions whose runner pod this is (one, unless a retry reused the name). */
  sessionsInPod(namespace: string, pod: string): SessionView[] {
    return [...(this.runnerPods.get(key(namespace, pod)) ?? [])].map((k) => this.sessions.get(k)!).filter(Boolean);
  }

  /** Events held, for /metrics and the proof that unrelated Events are not kept. */
  eventCount(): number {
    return this.events.size;
  }

  /** Events about one object, oldest first. */
  eventsFor(kind: string, namespace: string, name: string): EventView[] {
    const keys = this.eventsByObject.get(involvedKey(kind, namespace, name)) ?? new Set();
    return [...keys]
      .map((k) => this.events.get(k)!)
      .filter(Boolean)
      .sort((a, b) => (a.lastAt ?? 0) - (b.lastAt ?? 0));
  }

  private emit(change: FarmChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        // A failing subscriber must not starve the others, nor fail without a word.
        this.errors.record('store_subscriber', err, 'a store subscriber failed on a change; what it feeds may be stale', { change: change.kind });
      }
    }
  }
}

function poolSummaryChanged(a: PoolView, b: PoolView): boolean {
  if (a.replicas !== b.replicas || a.templateName !== b.templateName || a.devices.length !== b.devices.length) return true;
  if (a.observedGeneration !== b.observedGeneration || JSON.stringify(a.conditions) !== JSON.stringify(b.conditions)) return true;
  if (JSON.stringify(a.labels) !== JSON.stringify(b.labels)) return true;
  const ca = countDevices(a.devices);
  const cb = countDevices(b.devices);
  return DEVICE_STATES.some((state) => ca[state] !== cb[state]);
}

function involvedKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function indexAdd(index: Map<string, Set<string>>, k: string, member: string): void {
  let set = index.get(k);
  if (!set) index.set(k, (set = new Set()));
  set.add(member);
}

function indexRemove(index: Map<string, Set<string>>, k: string, member: string): void {
  const set = index.get(k);
  if (!set) return;
  set.delete(member);
  if (set.size === 0) index.delete(k);
}

function sortByKey<T extends { namespace: string; name: string }>(items: T[]): T[] {
  return items.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}
