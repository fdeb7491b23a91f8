// Feeds the FarmStore from the cluster: one informer per watched kind (per namespace when
// the dashboard is limited to some), each change applied to the store as it arrives, and
// the informers' health summarised for /readyz and the page's live badge.
import type { FarmStore, ForbiddenRead, SyncStatus } from '../farm/store.js';
import type { RetryScheduleOptions } from './backoff.js';
import { Informer, type InformerStatus, type Logger } from './informer.js';
import type { EventView } from '../farm/types.js';
import type { EventKind, ResourceName } from './resources.js';
import { EVENT_KINDS, eventFieldSelector, WATCHED } from './resources.js';
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
const POD_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

type AnyInformer = Pick<Informer<unknown>, 'start' | 'stop' | 'whenSynced' | 'snapshot' | 'onStateChange'>;

export class FarmSync {
  private readonly informers: AnyInformer[] = [];
  /** The Pod-Events informer of each scope ('' for all namespaces), to admit a new runner pod's past Events. */
  private readonly podEvents = new Map<string, Informer<EventView>>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: FarmSyncOptions) {
    const { cluster, store, log } = options;
    const scopes = options.namespaces.length > 0 ? options.namespaces : [undefined];
    for (const resource of WATCHED) {
      for (const namespace of scopes) {
        const kinds: readonly (EventKind | undefined)[] = resource === 'events' ? EVENT_KINDS : [undefined];
        for (const kind of kinds) {
          const informer = this.makeInformer(resource, namespace, cluster, store, log, kind);
          informer.onStateChange(() => this.publish());
          this.informers.push(informer);
        }
      }
    }
  }

  start(): void {
    this.stopped = false;
    // A session that names a runner pod for the first time: that pod's Events so far were
    // refused (no session owned the pod yet); read them once, by a narrow list.
    this.unsubscribe = this.options.store.subscribe((change) => {
      if (change.kind !== 'session' || change.type === 'deleted' || !this.sessionsSynced) return;
      const pod = change.view.podName;
      // A pod name as Kubernetes allows it (status is untrusted): it goes into a field selector.
      if (pod && pod !== change.old?.podName && POD_NAME.test(pod)) void this.admitRunnerPodEvents(change.view.namespace, pod);
    });
    for (const informer of this.informers) informer.start();
    // Pod Events are kept by the sessions that name their pods. When a scope's Pod Events
    // were listed before its sessions, none was kept: read them again once, whole.
    for (const [scope, podEvents] of this.podEvents) {
      const sessions = this.informers.find((i) => i.snapshot().resource === 'sessions' && (i.snapshot().namespace ?? '') === scope);
      void sessions?.whenSynced().then(() => {
        if (podEvents.snapshot().synced) void this.admitRunnerPodEvents(scope || undefined);
      });
    }
    this.publish();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const informer of this.informers) informer.stop();
  }

  /** Whether every sessions informer has listed: before that, new podNames are the first list's. */
  private get sessionsSynced(): boolean {
    return this.informers.every((i) => i.snapshot().resource !== 'sessions' || i.snapshot().synced);
  }

  /** One runner pod's Events (a narrow list), or, without a pod, every Pod Event of the scope. */
  private async admitRunnerPodEvents(namespace: string | undefined, pod?: string): Promise<void> {
    const informer = this.podEvents.get(this.options.namespaces.length > 0 ? (namespace ?? '') : '');
    // Before its first list, that list will keep them.
    if (!informer?.snapshot().synced) return;
    try {
      const fieldSelector = pod ? `${eventFieldSelector('Pod')},involvedObject.name=${pod}` : eventFieldSelector('Pod');
      const list = await this.options.cluster.list('events', namespace, { fieldSelector });
      if (!this.stopped) informer.admit(list.items);
    } catch (err) {
      // The watch still brings these Events from now on; only earlier ones are missing.
      this.options.log.warn({ err, namespace, pod }, "could not read runner pods' earlier Events");
    }
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

  private makeInformer(resource: ResourceName, namespace: string | undefined, cluster: Cluster, store: FarmStore, log: Logger, eventKind?: EventKind): AnyInformer {
    const common = {
      cluster,
      resource,
      namespace,
      log,
      versionOf: (v: { resourceVersion: string }) => v.resourceVersion,
      errors: store.errors,
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
      case 'events': {
        const kind = eventKind ?? 'TestSession';
        const informer = new Informer<EventView>({
          ...common,
          // Only Events about what the pages show: never every pod's Events in the cluster.
          fieldSelector: eventFieldSelector(kind),
          // Pod Events: only the farm's runner pods (no selector can say "pods some session names").
          ...(kind === 'Pod' ? { keep: (v: EventView) => store.isRunnerPod(v.involved.namespace, v.involved.name) } : {}),
          toView: toEventView,
          onChange: (c) => store.applyEvent(c.type, c.view),
        });
        if (kind === 'Pod') this.podEvents.set(namespace ?? '', informer);
        return informer;
      }
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
    const scope = `${s.resource}${s.fieldSelector ? ` (${s.fieldSelector})` : ''}${s.namespace ? ` in ${s.namespace}` : ''}`;
    if (!s.synced) detail.push(`${scope}: waiting for the first list${s.lastError ? ` (${s.lastError})` : ''}`);
    else if (s.state === 'retrying') detail.push(`${scope}: watch failing, retrying (${s.lastError ?? 'unknown error'})`);
    // One entry per refused read: the three Events watches of a namespace share theirs.
    if (s.forbidden && !forbidden.some((f) => JSON.stringify(f) === JSON.stringify(s.forbidden))) forbidden.push(s.forbidden);
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
