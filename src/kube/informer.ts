// One shared list+watch of one resource kind, kept alive through everything a real API
// server does, the way client-go's reflector does it:
// - a clean close of a healthy watch resumes at once from the last resourceVersion;
// - a watch is healthy once it delivered an event (bookmarks count) or stayed open for
//   HEALTHY_WATCH_MS (1 s); one that closes cleanly before that having delivered nothing
//   is a failure (a proxy answering 200 and closing must not make a hot loop);
// - 410 Gone relists at once after a healthy watch, and with backoff when the watch since
//   the last relist never became healthy (repeated 410s);
// - any other failure retries on the RetrySchedule (backoff.ts): ≤ 1 s apart (250 ms,
//   500 ms, then 1 s steps, each jittered to half..all) for the first 30 s of an outage,
//   then 2, 4, 8, 16, 30 s steps. The schedule resets when a watch proves healthy, so a
//   short outage (an apiserver restart) is noticed within 1 s of the server's return
//   however often it happens, and a long one costs the server one request per ~30 s;
// - a watch that delivered nothing, not even a bookmark, for longer than the server's own
//   watch timeout is restarted by a watchdog (healthy idle watches get bookmarks);
// - objects that cannot be read are logged and counted, never passed on as undefined;
//   an unreadable watch line ends the watch, which resumes from the last resourceVersion.
// Events for one object are delivered in order, as slim views. What a list or an event does
// to the cache (and the changes passed on) is informer-cache.ts; this file is the loop.
// Over 300 lines because list, watch, 410, backoff and watchdog are one state machine,
// read as a whole; its status type comes with it.
import { PRODUCTION_RETRY, RetrySchedule, type RetryScheduleOptions } from './backoff.js';
import { ClusterError } from './errors.js';
import { InformerCache, objectKey, type InformerChange } from './informer-cache.js';
import { RESOURCES, type ResourceName } from './resources.js';
import type { Cluster, KubeObject, WatchEvent, WatchHandle } from './types.js';
import type { ForbiddenRead } from '../farm/store.js';
import type { InternalErrors } from '../metrics/internal-errors.js';

export type { ForbiddenRead, InformerChange };
export { objectKey };

export type InformerState = 'starting' | 'live' | 'retrying' | 'stopped';

export interface InformerStatus {
  resource: ResourceName;
  namespace: string | undefined;
  /** The field selector the server applies, when this informer watches a part of the kind. */
  fieldSelector?: string;
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
  /** Set while failing: when the current run of failures began (the data is as of then). */
  failingSince: number | undefined;
  /** The last failure was a 403 on this read; cleared once a list or watch succeeds. */
  forbidden: ForbiddenRead | undefined;
  /** Objects (from lists or watch events) that could not be read and were skipped. */
  conversionFailures: number;
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
  /** Only what the server's field selector matches is listed and watched. */
  fieldSelector?: string;
  /**
   * Which of the objects the server sends are kept: the rest are never cached nor passed
   * on (one that stops being kept is passed on as deleted). For what no selector can say.
   */
  keep?: (view: V) => boolean;
  /** Makes the slim view kept in memory; must not throw on odd input. */
  toView: (object: KubeObject) => V;
  /** Identity of a view's source object, to skip unchanged objects on relist. */
  versionOf: (view: V) => string;
  onChange: (change: InformerChange<V>) => void;
  log: Logger;
  /** Defaults to PRODUCTION_RETRY (backoff.ts); tests may only shorten it where they say why. */
  backoff?: RetryScheduleOptions;
  /** Restart a watch that delivered nothing, not even a bookmark, for this long. */
  watchdogMs?: number;
  now?: () => number;
  /** Where a throwing change handler is logged and counted; else only logged. */
  errors?: InternalErrors;
}

const DEFAULT_WATCHDOG_MS = 400_000; // longer than the longest server-side watch timeout (360 s)
/** A watch open this long, or one that delivered an event, is healthy: its close is no failure. */
export const HEALTHY_WATCH_MS = 1_000;

export class Informer<V> {
  private readonly cache: InformerCache<V>;
  private readonly backoff: RetrySchedule;
  private readonly now: () => number;
  private status: InformerStatus;
  private watch: WatchHandle | undefined;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** Some watch became healthy since the last list: a 410 now is news, not a loop. */
  private healthySinceRelist = false;
  private syncWaiters: Array<() => void> = [];
  /** caughtUpTo() callers, each with the version it waits for. */
  private versionWaiters: Array<{ resourceVersion: string; resolve: () => void }> = [];
  private stateListeners: Array<(status: InformerStatus) => void> = [];

  constructor(private readonly options: InformerOptions<V>) {
    this.now = options.now ?? Date.now;
    this.cache = new InformerCache(options);
    this.backoff = new RetrySchedule({ ...(options.backoff ?? PRODUCTION_RETRY), now: this.now });
    this.status = {
      resource: options.resource,
      namespace: options.namespace,
      ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
      state: 'starting',
      synced: false,
      resourceVersion: '',
      lastSyncAt: undefined,
      lastEventAt: undefined,
      restarts: 0,
      relists: 0,
      lastError: undefined,
      failingSince: undefined,
      forbidden: undefined,
      conversionFailures: 0,
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
    // Nothing more will come: nobody waits for it.
    for (const { resolve } of this.versionWaiters.splice(0)) resolve();
  }

  /** Resolves after the first successful list (or at once if it already happened). */
  whenSynced(): Promise<void> {
    if (this.status.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /**
   * Resolves once this informer has seen `resourceVersion` (a write's, read from what the
   * write returned) or a later version, so what it holds includes that write: for a writer
   * that reads its own writes through the watch, such as the farm simulator. At once if it
   * has; also once the informer is stopped. Versions are compared as numbers, which the
   * apiserver's (etcd revisions) and the in-memory cluster's are; one that is not a number
   * counts as seen (nothing could tell when it is).
   */
  caughtUpTo(resourceVersion: string): Promise<void> {
    if (this.stopped || versionAtLeast(this.status.resourceVersion, resourceVersion)) return Promise.resolve();
    return new Promise((resolve) => this.versionWaiters.push({ resourceVersion, resolve }));
  }

  onStateChange(listener: (status: InformerStatus) => void): void {
    this.stateListeners.push(listener);
  }

  snapshot(): InformerStatus {
    return { ...this.status, conversionFailures: this.cache.conversionFailures };
  }

  values(): IterableIterator<V> {
    return this.cache.values();
  }

  /**
   * Objects read apart from the watch (a targeted list) that `keep` now accepts but
   * refused when the watch brought them (see InformerCache.admit).
   */
  admit(objects: readonly KubeObject[]): void {
    if (!this.stopped) this.cache.admit(objects);
  }

  private get stopped(): boolean {
    return this.status.state === 'stopped';
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const { cluster, resource, namespace } = this.options;
    let list;
    try {
      list = await cluster.list(resource, namespace, this.options.fieldSelector ? { fieldSelector: this.options.fieldSelector } : {});
    } catch (err) {
      this.retry(err, 'list');
      return;
    }
    if (this.stopped) return;
    this.succeeded();
    this.cache.replace(list.items);
    this.healthySinceRelist = false;
    this.setVersion(list.resourceVersion);
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
    let healthy = false;
    let healthyTimer: NodeJS.Timeout | undefined;
    let serverError: ClusterError | undefined;
    const proveHealthy = () => {
      if (healthy) return;
      healthy = true;
      clearTimeout(healthyTimer);
      // The outage, if any, is over: the next one starts with the fast phase again.
      this.backoff.reset();
      this.healthySinceRelist = true;
    };
    this.armWatchdog();
    this.watch = this.options.cluster.watch(this.options.resource, {
      namespace: this.options.namespace,
      resourceVersion: this.status.resourceVersion,
      ...(this.options.fieldSelector ? { fieldSelector: this.options.fieldSelector } : {}),
      // Live only once the server has accepted the watch: a retry that cannot connect
      // stays 'retrying' (stale) instead of flickering to live on every attempt.
      onOpen: () => {
        this.succeeded();
        this.setState('live');
        healthyTimer = setTimeout(proveHealthy, HEALTHY_WATCH_MS);
        healthyTimer.unref?.();
      },
      onEvent: (event) => {
        if (event.type === 'ERROR') serverError = new ClusterError(event.code, event.reason, event.message);
        else proveHealthy();
        this.onWatchEvent(event);
      },
      onClose: (err) => {
        clearTimeout(healthyTimer);
        clearTimeout(this.watchdog);
        this.watch = undefined;
        if (this.stopped) return;
        const failure = serverError ?? err;
        if (failure instanceof ClusterError && failure.status === 410) {
          this.expired();
        } else if (failure) {
          this.retry(failure, 'watch');
        } else if (!healthy && this.now() - startedAt < HEALTHY_WATCH_MS) {
          this.retry(new Error('the watch closed at once without delivering anything'), 'watch');
        } else {
          // A clean close (the server's timeout, or the watchdog): resume where we were.
          this.startWatch();
        }
      },
    });
  }

  /** 410 Gone: the server compacted past our version; a list gives a fresh one. */
  private expired(): void {
    const { resource, namespace } = this.options;
    this.status.resourceVersion = '';
    this.status.restarts++;
    if (this.healthySinceRelist) {
      this.options.log.info({ resource, namespace }, 'watch expired (410 Gone); relisting');
      this.schedule(() => this.relist(), 0);
      return;
    }
    // Expired again before any watch since the last list became healthy: a loop of full
    // lists is the most expensive thing an informer can do to a server, so back off.
    const delay = this.backoff.next();
    this.markFailing('watch: 410 Gone again right after a relist');
    this.options.log.warn({ resource, namespace, delayMs: delay }, 'watch expired (410 Gone) again right after a relist; relisting after a delay');
    this.schedule(() => this.relist(), delay);
  }

  private onWatchEvent(event: WatchEvent): void {
    this.status.lastEventAt = this.now();
    this.armWatchdog();
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED':
        if (this.cache.apply(event)) this.bumpVersion(event.object);
        break;
      case 'BOOKMARK':
        if (event.resourceVersion) this.setVersion(event.resourceVersion);
        break;
      case 'ERROR':
        if (event.code !== 410) {
          this.status.lastError = `watch error ${event.code}: ${event.message}`;
        }
        break;
    }
  }

  private bumpVersion(object: KubeObject): void {
    const rv = object.metadata?.resourceVersion;
    if (typeof rv === 'string' && rv) this.setVersion(rv);
  }

  /** The version everything cached is as of; wakes caughtUpTo() callers it satisfies. */
  private setVersion(resourceVersion: string): void {
    this.status.resourceVersion = resourceVersion;
    if (this.versionWaiters.length === 0) return;
    const still: typeof this.versionWaiters = [];
    for (const waiter of this.versionWaiters) {
      if (versionAtLeast(resourceVersion, waiter.resourceVersion)) waiter.resolve();
      else still.push(waiter);
    }
    this.versionWaiters = still;
  }

  /** A list or a watch was accepted: whatever failed before works again. */
  private succeeded(): void {
    this.status.failingSince = undefined;
    this.status.forbidden = undefined;
  }

  private markFailing(message: string): void {
    this.status.lastError = message;
    this.status.failingSince ??= this.now();
    this.setState('retrying', true);
  }

  private retry(err: unknown, during: 'list' | 'watch'): void {
    if (this.stopped) return;
    const { resource, namespace } = this.options;
    const message = err instanceof ClusterError ? `${err.status} ${err.message}` : err instanceof Error ? err.message : String(err);
    const forbidden = err instanceof ClusterError && err.status === 403;
    this.status.forbidden = forbidden ? { verb: during, resource: RESOURCES[resource].plural, group: RESOURCES[resource].group, namespace } : undefined;
    this.status.restarts++;
    const delay = this.backoff.next();
    this.markFailing(`${during}: ${message}`);
    this.options.log.warn({ resource, namespace, delayMs: delay, err: message }, `${during} failed; retrying`);
    // After a failed list there is no version to resume from; after a failed watch there
    // is, also after an unreadable watch line: resume from the last event read whole.
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

  /** `always`: tell listeners even when the state is unchanged (the failure's detail moved). */
  private setState(state: InformerState, always = false): void {
    if (this.status.state === 'stopped') return;
    if (this.status.state === state && !always) return;
    this.status.state = state;
    for (const listener of this.stateListeners) listener(this.snapshot());
  }
}

/** `seen` is `wanted` or later; a version that is not a number counts as seen. */
export function versionAtLeast(seen: string, wanted: string): boolean {
  if (!/^\d+$/.test(wanted)) return true;
  if (!/^\d+$/.test(seen)) return false;
  return BigInt(seen) >= BigInt(wanted);
}
