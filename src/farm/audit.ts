// The audit trail of the dashboard's writes: one structured log line per write (who, in
// which groups, what, on which object, how it ended, the request id) and, for stop, retry
// and delete, a Kubernetes Event on the session naming the person, which the session's
// timeline shows. The Events are written with the dashboard's own identity, not the
// person's: people cannot write (or forge) the record of what they did.
import type { FastifyBaseLogger } from 'fastify';
import type { Identity } from '../http/identity.js';
import type { Cluster } from '../kube/types.js';

export const REQUESTED_BY = 'droidfarm.io/requested-by';

export type AuditVerb = 'create' | 'stop' | 'retry' | 'delete';

export interface Actor {
  /** Undefined with --auth none: the dashboard acted as itself. */
  identity: Identity | undefined;
  requestId: string;
  log: FastifyBaseLogger;
  /** The dashboard's own cluster, for the Events. */
  events: Cluster;
  /** The API server refused the person (403): what was cached about their rights is stale. */
  onForbidden?: () => void;
}

export function actorName(identity: Identity | undefined): string {
  return identity ? identity.user : 'the dashboard (no sign-in)';
}

/** The one log line of a write. `result` is "ok" or the error code it ended with. */
export function auditLine(actor: Actor, verb: AuditVerb, object: { namespace: string; name: string }, result: string, extra: Record<string, unknown> = {}): void {
  actor.log.info(
    {
      audit: 'write',
      user: actor.identity?.user ?? null,
      groups: actor.identity?.groups ?? [],
      via: actor.identity?.via ?? 'none',
      verb,
      resource: 'testsessions.droidfarm.io',
      namespace: object.namespace,
      name: object.name,
      result,
      requestId: actor.requestId,
      ...extra,
    },
    `${verb} testsession ${object.namespace}/${object.name} by ${actorName(actor.identity)}: ${result}`,
  );
}

const REASONS: Record<Exclude<AuditVerb, 'create'>, string> = { stop: 'StopRequested', retry: 'Retried', delete: 'Deleted' };

/** A Normal Event on the session, from the dashboard, naming who did it. Never fails the write. */
export async function recordActionEvent(actor: Actor, verb: Exclude<AuditVerb, 'create'>, session: { namespace: string; name: string; uid?: string | undefined }, detail = ''): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const who = actorName(actor.identity);
  const message = { stop: `Stop requested by ${who}`, retry: `Retried by ${who}${detail ? ` as ${detail}` : ''}`, delete: `Deleted by ${who}` }[verb];
  try {
    await actor.events.create('events', session.namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${session.name.slice(0, 200)}.`, annotations: { 'droidfarm.io/request-id': actor.requestId } },
      involvedObject: { apiVersion: 'droidfarm.io/v1alpha1', kind: 'TestSession', name: session.name, namespace: session.namespace, ...(session.uid ? { uid: session.uid } : {}) },
      reason: REASONS[verb],
      message,
      type: 'Normal',
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: 'droidfarm-dashboard' },
    });
  } catch (err) {
    // The write happened; the log line above is the record when the Event cannot be.
    actor.log.warn({ err, namespace: session.namespace, name: session.name, verb }, 'could not record the audit Event on the session');
  }
}
