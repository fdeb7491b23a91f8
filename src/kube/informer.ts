// One shared list+watch of one resource kind, kept alive through everything a real API
// server does: a clean close resumes from the last resourceVersion; 410 Gone relists and
// emits exactly the deletes and changes it implies; any other error retries with capped,
// jittered backoff; a watch that goes silent for longer than the server's own timeout is
// restarted by a watchdog. Events for one object are delivered in order, as slim views.
import { Backoff } from './backoff.js';
import { ClusterError } from './errors.js';
import type { ResourceName } from './resources.js';
import type { Cluster, KubeObject, WatchEvent, WatchHandle } from './types.js';

export type ChangeType = 'added' | 'modified' | 'deleted';

export interface InformerChange<V> {
  type: ChangeType;
  key: string;
  view: V;
  /** The previous view, for modified and deleted. */
  old?: V;
}

export type InformerState = 'starting' | 'live' | 'retrying' | 'stopped';

export interface InformerStatus {
  resource: ResourceName;
  namespace: string | undefined;
  state: InformerState;
  /** True once the first list has been applied; never goes back to false. */
  synced: boolean;
  resourceVersion: string;
  lastSyncAt: number | undefined;
  lastEventAt: number | undefined;
  /** Failed lists and watches, 410 Gone and watchdog restarts; clean closes do not count. */
  restarts: number;
  /** Full lists after the first one (each after a 410 Gone): the cache was rebuilt from a list. */
  relists: number;
  lastError: string | undefined;
}

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface InformerOptions<V> {
  cluster: Cluster;
  resource: ResourceName;
  namespace: string | undefined;
  /** Makes the slim view kept in memory; must not throw on odd input. */
  toView: (object: KubeObject) => V;
  /** Identity of a view's source object, to skip unchanged objects on relist. */
  versionOf: (view: V) => string;
  onChange: (change: InformerChange<V>) => void;
  log: Logger;
  backoff?: { initialMs: number; maxMs: number };
  /** Restart a watch that delivered nothing for this long. */
  watchdogMs?: number;
  now?: () => number;
}

const DEFAULT_WATCHDOG_MS = 400_000; // longer than the longest server-side watch timeout (360 s)
const HEALTHY_WATCH_MS = 30_000;

export function objectKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

export class Informer<V> {
  private readonly cache = new Map<string, V>();
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private status: InformerStatus;
  private watch: WatchHandle | undefined;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private syncWaiters: Array<() => void> = [];
  private stateListeners: Array<(status: InformerStatus) => void> = [];

  constructor(private readonly options: InformerOptions<V>) {
    this.backoff = new Backoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 });
    this.now = options.now ?? Date.now;
    this.status = {
      resource: options.resource,
      namespace: options.namespace,
      state: 'starting',
      synced: false,
      resourceVersion: '',
      lastSyncAt: undefined,
      lastEventAt: undefined,
      restarts: 0,
      relists: 0,
      lastError: undefined,
    };
  }

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.setState('stopped');
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    this.watch?.stop();
    this.watch = undefined;
  }

  /** Resolves after the first successful list (or at once if it already happened). */
  whenSynced(): Promise<void> {
    if (this.status.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  onStateChange(listener: (status: InformerStatus) => void): void {
    this.stateListeners.push(listener);
  }

  snapshot(): InformerStatus {
    return { ...this.status };
  }

  values(): IterableIterator<V> {
    return this.cache.values();
  }

  private get stopped(): boolean {
    return this.status.state === 'stopped';
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const { cluster, resource, namespace } = this.options;
    let list;
    try {
      list = await cluster.list(resource, namespace);
    } catch (err) {
      this.retry(err, 'list');
      return;
    }
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const object of list.items) {
      const key = objectKey(object);
      seen.add(key);
      this.upsert(key, object, true);
    }
    // Objects that vanished while we were not watching (after a 410 or a restart).
    for (const [key, old] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit({ type: 'deleted', key, view: old, old });
      }
    }
    this.status.resourceVersion = list.resourceVersion;
    this.status.lastSyncAt = this.now();
    if (this.status.synced) {
      this.status.relists++;
    } else {
      this.status.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
    this.startWatch();
  }

  private startWatch(): void {
    if (this.stopped) return;
    const startedAt = this.now();
    let serverError: ClusterError | undefined;
    this.armWatchdog();
    this.watch = this.options.cluster.watch(this.options.resource, {
      namespace: this.options.namespace,
      resourceVersion: this.status.resourceVersion,
      // Live only once the server has accepted the watch: a retry that cannot connect
      // stays 'retrying' (stale) instead of flickering to live on every attempt.
      onOpen: () => this.setState('live'),
      onEvent: (event) => {
        if (event.type === 'ERROR') serverError = new ClusterError(event.code, event.reason, event.message);
        this.onWatchEvent(event);
      },
      onClose: (err) => {
        clearTimeout(this.watchdog);
        this.watch = undefined;
        if (this.stopped) return;
        if (this.now() - startedAt >= HEALTHY_WATCH_MS) this.backoff.reset();
        const failure = serverError ?? err;
        if (failure instanceof ClusterError && failure.status === 410) {
          // The server compacted past our version: relist now; the list gives a fresh one.
          this.options.log.info({ resource: this.options.resource, namespace: this.options.namespace }, 'watch expired (410 Gone); relisting');
          this.status.resourceVersion = '';
          this.status.restarts++;
          this.schedule(() => this.relist(), 0);
        } else if (failure) {
          this.retry(failure, 'watch');
        } else {
          // A clean close (the server's timeout, or the watchdog): resume where we were.
          this.startWatch();
        }
      },
    });
  }

  private onWatchEvent(event: WatchEvent): void {
    this.status.lastEventAt = this.now();
    this.armWatchdog();
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.upsert(objectKey(event.object), event.object, false);
        this.bumpVersion(event.object);
        break;
      case 'DELETED': {
        const key = objectKey(event.object);
        const old = this.cache.get(key);
        this.cache.delete(key);
        this.emit({ type: 'deleted', key, view: old ?? this.safeView(event.object)!, ...(old ? { old } : {}) });
        this.bumpVersion(event.object);
        break;
      }
      case 'BOOKMARK':
        if (event.resourceVersion) this.status.resourceVersion = event.resourceVersion;
        break;
      case 'ERROR':
        if (event.code !== 410) {
          this.status.lastError = `watch error ${event.code}: ${event.message}`;
        }
        break;
    }
  }

  private upsert(key: string, object: KubeObject, fromList: boolean): void {
    const view = this.safeView(object);
    if (view === undefined) return;
    const old = this.cache.get(key);
    if (fromList && old !== undefined && this.options.versionOf(old) === this.options.versionOf(view)) return;
    this.cache.set(key, view);
    this.emit(old === undefined ? { type: 'added', key, view } : { type: 'modified', key, view, old });
  }

  private safeView(object: KubeObject): V | undefined {
    try {
      return this.options.toView(object);
    } catch (err) {
      this.options.log.warn({ err, resource: this.options.resource, key: objectKey(object) }, 'skipped an object that could not be read');
      return undefined;
    }
  }

  private bumpVersion(object: KubeObject): void {
    if (object.metadata.resourceVersion) this.status.resourceVersion = object.metadata.resourceVersion;
  }

  private emit(change: InformerChange<V>): void {
    // A throwing handler must not stop the watch nor skip later changes.
    try {
      this.options.onChange(change);
    } catch (err) {
      this.options.log.error({ err, resource: this.options.resource, key: change.key }, 'change handler failed');
    }
  }

  private retry(err: unknown, during: 'list' | 'watch'): void {
    if (this.stopped) return;
    const message = err instanceof ClusterError ? `${err.status} ${err.message}` : String(err);
    this.status.lastError = `${during}: ${message}`;
    this.status.restarts++;
    this.setState('retrying');
    const delay = this.backoff.next();
    this.options.log.warn({ resource: this.options.resource, namespace: this.options.namespace, delayMs: delay, err: message }, `${during} failed; retrying`);
    // After a failed list there is no version to resume from; after a failed watch there is.
    this.schedule(() => (this.status.resourceVersion ? this.startWatch() : this.relist()), delay);
  }

  private schedule(fn: () => unknown, delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void fn(), delayMs);
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    const ms = this.options.watchdogMs ?? DEFAULT_WATCHDOG_MS;
    this.watchdog = setTimeout(() => {
      this.options.log.warn({ resource: this.options.resource, namespace: this.options.namespace, silentMs: ms }, 'watch went silent; restarting it');
      // Stopping closes it cleanly, which resumes from the last version at once; if the
      // server is really gone, that new watch fails and the backoff takes over.
      if (this.watch) {
        this.status.restarts++;
        this.watch.stop();
      }
    }, ms);
    this.watchdog.unref?.();
  }

  private setState(state: InformerState): void {
    if (this.status.state === state) return;
    if (this.status.state === 'stopped') return;
    this.status.state = state;
    for (const listener of this.stateListeners) listener(this.snapshot());
  }
}
