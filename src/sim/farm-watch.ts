// What the simulator reads: DevicePools, TestSessions and (for the demo's device pods) Pods,
// each kind through the project's informer (src/kube/informer.ts): one shared list+watch per
// kind, as the dashboard's store reads, instead of listing every kind on every tick.
//
// A watch is eventually consistent; a tick must not be, or the same seed would not tell the
// same story on the in-memory cluster and a real apiserver (tests step ticks in lockstep and
// compare them). A tick reads what was written before it, as a list would, because it first
// waits until each informer has caught up (Informer.caughtUpTo) with
//   - the simulator's own writes: the versions its creates and status writes returned, and
//   - writes that others announce with expectWrite(), such as a test's patch between ticks.
// Deletions need no wait: a deleted session the watch still shows is a finished one, which
// the simulator leaves alone either way. On the in-memory cluster a write's watch event is
// delivered before the write's promise resolves, so there the wait is only for the first list.
import { Informer, objectKey, versionAtLeast, type Logger } from '../kube/informer.js';
import type { Cluster, KubeObject } from '../kube/types.js';

export type WatchedKind = 'pools' | 'sessions' | 'pods';

/** How long a tick waits for a watch to catch up before it ticks on what it has (and says so). */
export const CATCH_UP_LIMIT_MS = 10_000;

export interface FarmWatchOptions {
  cluster: Cluster;
  namespace: string | undefined;
  kinds: readonly WatchedKind[];
  log?: { warn(obj: object, msg: string): void } | undefined;
}

export class FarmWatch {
  private readonly informers = new Map<WatchedKind, Informer<KubeObject>>();
  /** Per kind, the latest version a tick must have seen. */
  private readonly expected = new Map<WatchedKind, string>();
  private started = false;
  /** Resolves on stop(): a tick waiting for a first list that never comes ends with it. */
  private readonly stopped: Promise<'stopped'>;
  private stopNow: () => void = () => {};

  constructor(private readonly options: FarmWatchOptions) {
    this.stopped = new Promise((resolve) => (this.stopNow = () => resolve('stopped')));
    const warn = (obj: object, msg: string) => options.log?.warn(obj, msg);
    const log: Logger = { info: () => {}, warn, error: warn };
    for (const resource of options.kinds) {
      this.informers.set(
        resource,
        new Informer<KubeObject>({
          cluster: options.cluster,
          resource,
          namespace: options.namespace,
          toView: withoutManagedFields,
          versionOf: (o) => o.metadata.resourceVersion ?? '',
          // The simulator reads the cache when it ticks; it reacts to nothing in between.
          onChange: () => {},
          log,
        }),
      );
    }
  }

  /** A write the next tick must see: one of the simulator's own, or one announced by another writer. */
  expectWrite(resource: WatchedKind, written: KubeObject | undefined): void {
    const version = written?.metadata?.resourceVersion;
    if (!version || !this.informers.has(resource)) return;
    const before = this.expected.get(resource);
    if (before === undefined || !versionAtLeast(before, version)) this.expected.set(resource, version);
  }

  /** Starts the watches (once), then waits until every kind is listed and has seen every expected write. */
  async caughtUp(): Promise<void> {
    if (!this.started) {
      this.started = true;
      for (const informer of this.informers.values()) informer.start();
    }
    await Promise.all(
      [...this.informers].map(async ([resource, informer]) => {
        const version = this.expected.get(resource);
        const caughtUp = informer.whenSynced().then(() => (version === undefined ? undefined : informer.caughtUpTo(version)));
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CATCH_UP_LIMIT_MS)));
        const outcome = await Promise.race([caughtUp, late, this.stopped]);
        clearTimeout(timer);
        if (outcome === 'late') {
          const { synced, resourceVersion, lastError } = informer.snapshot();
          this.options.log?.warn({ resource, expected: version, seen: resourceVersion, synced, lastError }, `the watch of ${resource} has not caught up within ${CATCH_UP_LIMIT_MS / 1000}s; ticking on what it has`);
        }
      }),
    );
  }

  /** The kind's objects, in the order a list returns them (namespace, then name). */
  objects(resource: WatchedKind): KubeObject[] {
    const informer = this.informers.get(resource);
    if (!informer) return [];
    return [...informer.values()].sort((a, b) => codeUnitOrder(objectKey(a), objectKey(b)));
  }

  stop(): void {
    this.stopNow();
    for (const informer of this.informers.values()) informer.stop();
  }
}

/** Plain code-unit order: the same everywhere (unlike localeCompare), and etcd's order of keys. */
export function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Kept in memory for as long as the object lives: the server's bookkeeping of who wrote which field is not needed. */
function withoutManagedFields(o: KubeObject): KubeObject {
  if (o.metadata.managedFields === undefined) return o;
  const { managedFields: _, ...metadata } = o.metadata;
  return { ...o, metadata: metadata as KubeObject['metadata'] };
}
