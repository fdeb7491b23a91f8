// Feeds the FarmStore from the cluster: one informer per watched kind (per namespace when
// the dashboard is limited to some), each change applied to the store as it arrives, and
// the informers' health summarised for /readyz and the page's live badge.
import type { FarmStore, ForbiddenRead, SyncStatus } from '../farm/store.js';
import type { RetryScheduleOptions } from './backoff.js';
import { Informer, type InformerStatus, type Logger } from './informer.js';
import type { ResourceName } from './resources.js';
import { WATCHED } from './resources.js';
import { toEventView, toPoolView, toSessionView, toTemplateView } from './slim.js';
import type { Cluster } from './types.js';

export interface FarmSyncOptions {
  cluster: Cluster;
  store: FarmStore;
  /** Empty: all namespaces. */
  namespaces: readonly string[];
  log: Logger;
  watchdogMs?: number;
  /** The informers' retry schedule; production (backoff.ts) unless a test says otherwise. */
  backoff?: RetryScheduleOptions;
}

/** What FarmSync needs of an informer, whatever its view type. */
type AnyInformer = Pick<Informer<unknown>, 'start' | 'stop' | 'whenSynced' | 'snapshot' | 'onStateChange'>;

export class FarmSync {
  private readonly informers: AnyInformer[] = [];

  constructor(private readonly options: FarmSyncOptions) {
    const { cluster, store, log } = options;
    const scopes = options.namespaces.length > 0 ? options.namespaces : [undefined];
    for (const resource of WATCHED) {
      for (const namespace of scopes) {
        const informer = this.makeInformer(resource, namespace, cluster, store, log);
        informer.onStateChange(() => this.publish());
        this.informers.push(informer);
      }
    }
  }

  start(): void {
    for (const informer of this.informers) informer.start();
    this.publish();
  }

  stop(): void {
    for (const informer of this.informers) informer.stop();
  }

  async whenSynced(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.whenSynced()));
    this.publish();
  }

  statuses(): InformerStatus[] {
    return this.informers.map((i) => i.snapshot());
  }

  private publish(): void {
    this.options.store.setSync(summarise(this.statuses()));
  }

  private makeInformer(resource: ResourceName, namespace: string | undefined, cluster: Cluster, store: FarmStore, log: Logger): AnyInformer {
    const common = {
      cluster,
      resource,
      namespace,
      log,
      versionOf: (v: { resourceVersion: string }) => v.resourceVersion,
      ...(this.options.watchdogMs ? { watchdogMs: this.options.watchdogMs } : {}),
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
    };
    // Each branch keeps its own view type; the informer list only needs the common shape.
    switch (resource) {
      case 'templates':
        return new Informer({ ...common, toView: toTemplateView, onChange: (c) => store.applyTemplate(c.type, c.view) });
      case 'pools':
        return new Informer({ ...common, toView: toPoolView, onChange: (c) => store.applyPool(c.type, c.view) });
      case 'sessions':
        return new Informer({ ...common, toView: toSessionView, onChange: (c) => store.applySession(c.type, c.view) });
      case 'events':
        return new Informer({ ...common, toView: toEventView, onChange: (c) => store.applyEvent(c.type, c.view) });
      default:
        throw new Error(`no informer for ${resource}`);
    }
  }
}

/**
 * One status for the whole farm: synced when all are, stale when any is failing now (since
 * the earliest of their failures), and every read the API server refused on its last try.
 */
export function summarise(statuses: readonly InformerStatus[]): SyncStatus {
  const detail: string[] = [];
  const forbidden: ForbiddenRead[] = [];
  let staleSince: number | undefined;
  for (const s of statuses) {
    const scope = `${s.resource}${s.namespace ? ` in ${s.namespace}` : ''}`;
    if (!s.synced) detail.push(`${scope}: waiting for the first list${s.lastError ? ` (${s.lastError})` : ''}`);
    else if (s.state === 'retrying') detail.push(`${scope}: watch failing, retrying (${s.lastError ?? 'unknown error'})`);
    if (s.forbidden) forbidden.push(s.forbidden);
    const failing = s.state === 'retrying' || (!s.synced && s.restarts > 0);
    if (failing && s.failingSince !== undefined) staleSince = Math.min(staleSince ?? s.failingSince, s.failingSince);
  }
  const stale = statuses.some((s) => s.state === 'retrying' || (!s.synced && s.restarts > 0));
  return {
    synced: statuses.length > 0 && statuses.every((s) => s.synced),
    stale,
    detail,
    ...(stale && staleSince !== undefined ? { staleSince } : {}),
    ...(forbidden.length ? { forbidden } : {}),
  };
}
