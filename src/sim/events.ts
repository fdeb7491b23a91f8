// Kubernetes Events for the notable transitions (a device ready or unhealthy, a session
// assigned, started, ended), as an operator records them. Sent at once, concurrently; a
// tick ends only once the Events it recorded are written (flush), so a test that steps
// ticks finds them.
import type { Cluster } from '../kube/types.js';

const COMPONENT = 'droidfarm-simulator';

export type EventKind = 'DevicePool' | 'TestSession';

export class EventRecorder {
  private pending: Array<Promise<void>> = [];

  constructor(
    private readonly cluster: Cluster,
    private readonly log: { warn(obj: object, msg: string): void } | undefined,
  ) {}

  record(kind: EventKind, about: { namespace: string; name: string }, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.pending.push(this.send(kind, about, type, reason, message));
  }

  /** Resolves once every Event recorded so far is written (or its failure logged). */
  async flush(): Promise<void> {
    const events = this.pending;
    this.pending = [];
    await Promise.all(events);
  }

  private async send(kind: EventKind, about: { namespace: string; name: string }, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      await this.cluster.create('events', about.namespace, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${about.name}.`, namespace: about.namespace },
        involvedObject: { apiVersion: 'droidfarm.io/v1alpha1', kind, name: about.name, namespace: about.namespace },
        type,
        reason,
        message,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: COMPONENT,
      });
    } catch (err) {
      this.log?.warn({ err, reason }, 'could not record an event');
    }
  }
}
