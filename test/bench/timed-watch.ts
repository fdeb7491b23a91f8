// The real cluster, with the moment each bench change's watch event reached the dashboard
// noted: where the apiserver's share of the latency ends and the dashboard's begins. The
// event is timed as the informer receives it (the line read and decoded), before the
// informer, the store or the broker have seen it. Everything else is the KubeCluster's.
import type { Writable } from 'node:stream';
import type { ResourceName } from '../../src/kube/resources.js';
import type { Cluster, KubeObject, ListResult, LogOptions, NewKubeObject, Preconditions, SelectorOptions, WatchHandle, WatchOptions, WriteOptions } from '../../src/kube/types.js';
import { MARKER } from './farm.js';
import { clockMs } from './proc.js';

const ROUND = new RegExp(`^${MARKER}(\\d+)-`);

export class TimedWatchCluster implements Cluster {
  readonly description: string;

  constructor(
    private readonly inner: Cluster,
    /** Round → when its change's watch event arrived (clockMs). */
    private readonly watchAt: Map<number, number>,
  ) {
    this.description = inner.description;
  }

  watch(resource: ResourceName, options: WatchOptions): WatchHandle {
    if (resource !== 'pools') return this.inner.watch(resource, options);
    return this.inner.watch(resource, {
      ...options,
      onEvent: (event) => {
        if (event.type === 'MODIFIED') {
          const at = clockMs();
          // Every changed device keeps its marker; the newest round not yet seen is this event's.
          const devices = ((event.object.status as { devices?: Array<{ message?: string }> } | undefined)?.devices ?? []);
          for (const d of devices) {
            const m = d.message ? ROUND.exec(d.message) : null;
            if (m && !this.watchAt.has(Number(m[1]))) this.watchAt.set(Number(m[1]), at);
          }
        }
        options.onEvent(event);
      },
    });
  }

  list(resource: ResourceName, namespace: string | undefined, options?: SelectorOptions): Promise<ListResult> {
    return this.inner.list(resource, namespace, options);
  }
  get(resource: ResourceName, namespace: string, name: string): Promise<KubeObject> {
    return this.inner.get(resource, namespace, name);
  }
  create(resource: ResourceName, namespace: string, object: NewKubeObject, options?: WriteOptions): Promise<KubeObject> {
    return this.inner.create(resource, namespace, object, options);
  }
  patch(resource: ResourceName, namespace: string, name: string, patch: Record<string, unknown>, options?: WriteOptions & { subresource?: 'status'; preconditions?: Preconditions }): Promise<KubeObject> {
    return this.inner.patch(resource, namespace, name, patch, options);
  }
  delete(resource: ResourceName, namespace: string, name: string, options?: WriteOptions & { gracePeriodSeconds?: number; preconditions?: Preconditions }): Promise<void> {
    return this.inner.delete(resource, namespace, name, options);
  }
  podLog(namespace: string, pod: string, out: Writable, options?: LogOptions): Promise<void> {
    return this.inner.podLog(namespace, pod, out, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
