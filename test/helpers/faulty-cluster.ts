// The in-memory cluster with the faults a real network and API server produce, for unit
// tests of the informer: an apiserver that is down (calls fail, open watches end cleanly,
// as on SIGTERM), a 403 on reads, a proxy that answers a watch with 200 and closes it at
// once, watches that expire (410 Gone) as soon as they open, and a watch stream that ends
// on an unreadable line. Everything else is the MemoryCluster's own behaviour.
import { ClusterError } from '../../src/kube/errors.js';
import { WatchLineError } from '../../src/kube/watch-line.js';
import { MemoryCluster, type MemoryClusterOptions } from '../../src/kube/memory-cluster.js';
import type { ResourceName } from '../../src/kube/resources.js';
import type { Cluster, ListResult, WatchHandle, WatchOptions } from '../../src/kube/types.js';

export type WatchFault =
  /** 200, then a clean close before any event. */
  | 'close-at-once'
  /** 200, then ERROR 410 Gone and a close. */
  | 'expire-at-once';

export class FaultyCluster implements Cluster {
  readonly memory: MemoryCluster;
  readonly description = 'faulty in-memory cluster';
  down = false;
  /** Reads answered 403, as for a ServiceAccount without RBAC. */
  forbidden = false;
  /** Applied to every watch opened while set. */
  watchFault: WatchFault | undefined;
  lists = 0;
  /** The resourceVersion each watch was opened from, in order. */
  readonly watchesFrom: string[] = [];
  private readonly open = new Set<{ stop: (reason?: Error) => void }>();

  constructor(options: MemoryClusterOptions = {}) {
    this.memory = new MemoryCluster(options);
  }

  async list(resource: ResourceName, namespace: string | undefined): Promise<ListResult> {
    this.lists++;
    this.fail(resource, namespace, 'list');
    return this.memory.list(resource, namespace);
  }

  watch(resource: ResourceName, options: WatchOptions): WatchHandle {
    this.watchesFrom.push(options.resourceVersion);
    let closed = false;
    let reason: Error | undefined;
    const closeOnce = (err?: Error) => {
      if (closed) return;
      closed = true;
      this.open.delete(entry);
      options.onClose(err);
    };
    // Asynchronous, as a network is: never re-entrant, and a hot loop cannot starve timers.
    const later = (fn: () => void) => setImmediate(() => !closed && fn());
    const entry: { stop: (reason?: Error) => void } = { stop: () => later(() => closeOnce()) };
    try {
      this.fail(resource, options.namespace, 'watch');
    } catch (err) {
      later(() => closeOnce(err as Error));
      return { stop: () => entry.stop() };
    }
    if (this.watchFault === 'close-at-once') {
      later(() => {
        options.onOpen?.();
        closeOnce();
      });
      return { stop: () => entry.stop() };
    }
    if (this.watchFault === 'expire-at-once') {
      later(() => {
        options.onOpen?.();
        options.onEvent({ type: 'ERROR', code: 410, reason: 'Expired', message: 'too old resource version' });
        closeOnce();
      });
      return { stop: () => entry.stop() };
    }
    const inner = this.memory.watch(resource, { ...options, onClose: (err) => closeOnce(reason ?? err) });
    entry.stop = (why?: Error) => {
      reason = why;
      inner.stop();
    };
    this.open.add(entry);
    return { stop: () => entry.stop() };
  }

  /** The apiserver goes away: open watches end cleanly (as on SIGTERM), calls fail until up(). */
  goDown(): void {
    this.down = true;
    for (const w of [...this.open]) w.stop();
  }

  /** Open watches end cleanly, as at the server's timeout; the server stays up. */
  endOpenWatches(): void {
    for (const w of [...this.open]) w.stop();
  }

  up(): void {
    this.down = false;
  }

  /** Every open watch receives `line` and ends with the error kube-cluster.ts raises for it. */
  breakOpenWatches(line: string): void {
    for (const w of [...this.open]) w.stop(new WatchLineError('not JSON', line));
  }

  get get() {
    return this.memory.get.bind(this.memory);
  }
  get create() {
    return this.memory.create.bind(this.memory);
  }
  get patch() {
    return this.memory.patch.bind(this.memory);
  }
  get delete() {
    return this.memory.delete.bind(this.memory);
  }
  as(): Cluster {
    return this;
  }
  get reviewToken() {
    return this.memory.reviewToken.bind(this.memory);
  }
  get reviewAccess() {
    return this.memory.reviewAccess.bind(this.memory);
  }
  get podLog() {
    return this.memory.podLog.bind(this.memory);
  }

  async close(): Promise<void> {
    await this.memory.close();
  }

  private fail(resource: ResourceName, namespace: string | undefined, verb: string): void {
    if (this.down) throw ClusterError.unreachable('https://faulty.invalid', new Error('connect ECONNREFUSED'));
    if (this.forbidden) {
      throw new ClusterError(403, 'Forbidden', `${resource} is forbidden: User "alice" cannot ${verb} resource "${resource}" in the namespace "${namespace ?? ''}"`);
    }
  }
}
