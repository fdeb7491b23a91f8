// An in-memory cluster behind the same interface as the real one, for the embedded demo
// and for fast tests of the farm simulator. It keeps the API semantics the dashboard
// relies on: one global resourceVersion sequence, watches that resume from a version or
// answer 410 Gone once it has been compacted away, 404/409 like the API server, merge
// patches that respect the status subresource, and dry runs that store nothing. Like an
// apiserver with its watch cache, it sends every watch a bookmark about once a minute, so
// a healthy watch of a kind that never changes is told apart from a dead one.
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { parseSelector } from '../farm/labels.js';
import { ClusterError } from './errors.js';
import { MemoryPodLogs } from './memory-pod-logs.js';
import { checkPreconditions, clone, fieldMatcher, mergePatch } from './api-semantics.js';
import { apiVersionOf, RESOURCES, type ResourceName } from './resources.js';
import type { AccessDecision, AccessQuestion, Cluster, KubeObject, NewKubeObject, ListResult, LogOptions, Preconditions, SelectorOptions, Subject, TokenOwner, WatchEvent, WatchHandle, WatchOptions, WriteOptions } from './types.js';

interface StoredEvent {
  revision: number;
  resource: ResourceName;
  event: Extract<WatchEvent, { object: KubeObject }>;
}

interface Watcher {
  resource: ResourceName;
  namespace: string | undefined;
  options: WatchOptions;
  closed: boolean;
}

const HAS_STATUS_SUBRESOURCE: ReadonlySet<ResourceName> = new Set(['pools', 'sessions', 'templates']);

export interface MemoryClusterOptions {
  /** How many changes are kept for watches to resume from; older versions get 410. */
  historyLimit?: number;
  /** How often each open watch gets a BOOKMARK with the current version (0: never). */
  bookmarkIntervalMs?: number;
  now?: () => number;
}

const DEFAULT_BOOKMARK_INTERVAL_MS = 60_000; // the apiserver's watch cache sends them about this often

export class MemoryCluster implements Cluster {
  readonly description = 'embedded demo (in memory)';
  private revision = 1;
  private readonly objects = new Map<ResourceName, Map<string, KubeObject>>();
  private history: StoredEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly logs = new MemoryPodLogs();
  private readonly historyLimit: number;
  private readonly now: () => number;
  private readonly bookmarkIntervalMs: number;
  private bookmarkTimer: NodeJS.Timeout | undefined;

  constructor(options: MemoryClusterOptions = {}) {
    this.historyLimit = options.historyLimit ?? 20_000;
    this.now = options.now ?? Date.now;
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS;
  }

  async list(resource: ResourceName, namespace: string | undefined, options: SelectorOptions = {}): Promise<ListResult> {
    const match = parseSelector(options.labelSelector);
    const fields = fieldMatcher(options.fieldSelector);
    const items = [...this.bucket(resource).values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .filter((o) => match(o.metadata.labels ?? {}) && fields(o))
      // Like the API server, whose lists come in etcd key order (namespace, then name):
      // callers that iterate a list must see the same order on either cluster.
      .sort((a, b) => compareKeys(`${a.metadata.namespace ?? ''}/${a.metadata.name}`, `${b.metadata.namespace ?? ''}/${b.metadata.name}`))
      .map(clone);
    return { items, resourceVersion: String(this.revision) };
  }

  watch(resource: ResourceName, options: WatchOptions): WatchHandle {
    const watcher: Watcher = { resource, namespace: options.namespace, options, closed: false };
    const from = Number(options.resourceVersion || this.revision);
    const oldest = this.history[0]?.revision ?? this.revision + 1;
    // Deliver asynchronously, as a network would: callers never see events re-entrantly.
    queueMicrotask(() => {
      if (watcher.closed) return;
      if (from < oldest - 1 && from < this.revision) {
        options.onEvent({ type: 'ERROR', code: 410, reason: 'Expired', message: `too old resource version: ${from} (${oldest - 1})` });
        watcher.closed = true;
        options.onClose();
        return;
      }
      options.onOpen?.();
      for (const stored of this.history) {
        if (stored.revision > from && this.matches(watcher, stored)) options.onEvent(clone(stored.event));
      }
      this.watchers.add(watcher);
      this.startBookmarks();
    });
    return {
      stop: () => {
        if (watcher.closed) return;
        watcher.closed = true;
        this.watchers.delete(watcher);
        queueMicrotask(() => options.onClose());
      },
    };
  }

  async get(resource: ResourceName, namespace: string, name: string): Promise<KubeObject> {
    return clone(this.mustGet(resource, namespace, name));
  }

  /**
   * Like the API server since 1.32: a random suffix that is taken is drawn again, a few
   * times, so seeding thousands of sessions under one prefix (the demo's history) does not
   * fail on a collision; past the attempts the taken name goes on to its 409.
   */
  private generatedName(resource: ResourceName, namespace: string, prefix: string): string {
    let name = `${prefix}${randomSuffix()}`;
    for (let attempt = 1; attempt < GENERATE_NAME_ATTEMPTS && this.bucket(resource).has(`${namespace}/${name}`); attempt++) name = `${prefix}${randomSuffix()}`;
    return name;
  }

  async create(resource: ResourceName, namespace: string, object: NewKubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const meta = object.metadata ?? {};
    let name = meta.name;
    if (!name && meta.generateName) name = this.generatedName(resource, namespace, meta.generateName);
    if (!name) throw new ClusterError(422, 'Invalid', `${RESOURCES[resource].kind} is invalid: metadata.name: Required value: name or generateName is required`);
    const k = `${namespace}/${name}`;
    if (this.bucket(resource).has(k)) {
      throw new ClusterError(409, 'AlreadyExists', `${RESOURCES[resource].plural}.${RESOURCES[resource].group} "${name}" already exists`);
    }
    const created: KubeObject = {
      ...clone(object),
      apiVersion: apiVersionOf(resource),
      kind: RESOURCES[resource].kind,
      metadata: {
        ...clone(meta),
        name,
        namespace,
        uid: randomUUID(),
        generation: 1,
        creationTimestamp: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    };
    // Like the API server: status cannot be set on create when it is a subresource.
    if (HAS_STATUS_SUBRESOURCE.has(resource)) delete created.status;
    if (options.dryRun) return clone(created);
    return this.commit(resource, 'ADDED', created);
  }

  async patch(
    resource: ResourceName,
    namespace: string,
    name: string,
    patch: Record<string, unknown>,
    options: WriteOptions & { subresource?: 'status'; preconditions?: Preconditions } = {},
  ): Promise<KubeObject> {
    const current = this.mustGet(resource, namespace, name);
    checkPreconditions(resource, current, options.preconditions);
    let next: KubeObject;
    if (options.subresource === 'status') {
      next = { ...clone(current), status: mergePatch(current.status, patch.status) as Record<string, unknown> };
    } else {
      next = mergePatch(current, patch) as KubeObject;
      if (HAS_STATUS_SUBRESOURCE.has(resource)) next.status = clone(current.status);
      // Identity fields cannot be changed by a patch.
      next.metadata = { ...next.metadata, name, namespace, uid: current.metadata.uid!, creationTimestamp: current.metadata.creationTimestamp! };
      if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    }
    if (next.status === undefined) delete next.status;
    if (options.dryRun) return clone(next);
    return this.commit(resource, 'MODIFIED', next);
  }

  async delete(resource: ResourceName, namespace: string, name: string, options: WriteOptions & { preconditions?: Preconditions } = {}): Promise<void> {
    const current = this.mustGet(resource, namespace, name);
    checkPreconditions(resource, current, options.preconditions);
    if (options.dryRun) return;
    this.commit(resource, 'DELETED', clone(current));
  }

  async podLog(namespace: string, pod: string, out: Writable, options: LogOptions = {}): Promise<void> {
    return this.logs.read(namespace, pod, out, options);
  }

  /** The demo's stand-in for a kubelet: a pod's log lines, appended as the runner "runs". */
  appendPodLog(namespace: string, pod: string, line: string): void {
    this.logs.append(namespace, pod, line);
  }

  /** Ends a pod's log (the container exited): followers see the end of the stream. */
  endPodLog(namespace: string, pod: string): void {
    this.logs.end(namespace, pod);
  }

  deletePodLog(namespace: string, pod: string): void {
    this.logs.delete(namespace, pod);
  }

  /** Forgets history before the current version, like an etcd compaction: old watches get 410. */
  compact(): void {
    this.history = [];
  }

  /** The demo has no RBAC and no audit log: everyone acts as the one user it has. */
  as(_subject: Subject): Cluster {
    return this;
  }

  /** The demo issues no tokens: every one is refused. */
  async reviewToken(_token: string): Promise<TokenOwner> {
    return { authenticated: false, error: 'the embedded demo has no Kubernetes tokens' };
  }

  /** The demo has no RBAC: everything is allowed. */
  async reviewAccess(_subject: Subject, _question: AccessQuestion): Promise<AccessDecision> {
    return { allowed: true, reason: 'the embedded demo has no RBAC' };
  }

  async close(): Promise<void> {
    clearInterval(this.bookmarkTimer);
    this.bookmarkTimer = undefined;
    for (const w of this.watchers) {
      w.closed = true;
      w.options.onClose();
    }
    this.watchers.clear();
    this.logs.close();
  }

  private commit(resource: ResourceName, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): KubeObject {
    this.revision++;
    object.metadata.resourceVersion = String(this.revision);
    const k = `${object.metadata.namespace}/${object.metadata.name}`;
    if (type === 'DELETED') this.bucket(resource).delete(k);
    else this.bucket(resource).set(k, object);
    const stored: StoredEvent = { revision: this.revision, resource, event: { type, object: clone(object) } };
    this.history.push(stored);
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    for (const w of this.watchers) {
      if (!this.matches(w, stored)) continue;
      const event = clone(stored.event);
      queueMicrotask(() => {
        if (!w.closed) w.options.onEvent(event);
      });
    }
    return clone(object);
  }

  /** One timer for all watches; it stops when none is open. */
  private startBookmarks(): void {
    if (this.bookmarkTimer || this.bookmarkIntervalMs <= 0) return;
    this.bookmarkTimer = setInterval(() => {
      if (this.watchers.size === 0) {
        clearInterval(this.bookmarkTimer);
        this.bookmarkTimer = undefined;
        return;
      }
      // Every event up to this version has been queued to each watcher before this one.
      const resourceVersion = String(this.revision);
      for (const w of this.watchers) {
        queueMicrotask(() => {
          if (!w.closed) w.options.onEvent({ type: 'BOOKMARK', resourceVersion });
        });
      }
    }, this.bookmarkIntervalMs);
    this.bookmarkTimer.unref?.();
  }

  private matches(w: Watcher, stored: StoredEvent): boolean {
    return (
      w.resource === stored.resource &&
      (w.namespace === undefined || stored.event.object.metadata.namespace === w.namespace) &&
      (w.options.fieldSelector === undefined || fieldMatcher(w.options.fieldSelector)(stored.event.object))
    );
  }

  private bucket(resource: ResourceName): Map<string, KubeObject> {
    let b = this.objects.get(resource);
    if (!b) this.objects.set(resource, (b = new Map()));
    return b;
  }

  private mustGet(resource: ResourceName, namespace: string, name: string): KubeObject {
    const o = this.bucket(resource).get(`${namespace}/${name}`);
    if (!o) throw new ClusterError(404, 'NotFound', `${RESOURCES[resource].plural}${RESOURCES[resource].group ? `.${RESOURCES[resource].group}` : ''} "${name}" not found`);
    return o;
  }
}

/** Plain code-unit order, like etcd's byte order of keys. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Suffixes the API server tries for one generateName before it answers 409 (RetryGenerateName, GA in 1.32). */
const GENERATE_NAME_ATTEMPTS = 8;

function randomSuffix(): string {
  const chars = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}
