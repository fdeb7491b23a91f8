// The dashboard's writes of TestSessions: create, stop, retry and delete. They go to the
// apiserver and nowhere else; pages change when the watch brings the result back. Each
// decides on the session read from the apiserver just before, by the one rule of
// src/farm/session-actions.ts (a 409 that says why), writes only onto that version, and
// maps the apiserver's own refusals (403, 404, 409, 422) to messages a person can act on.
// Given the acting cluster (Cluster.as the signed-in person), RBAC decides as them.
import { AppError } from '../http/errors.js';
import { auditLine, recordActionEvent, type Actor, type AuditVerb } from '../farm/audit.js';
import { canDelete, canRetry, canStop, type ActionVerdict } from '../farm/session-actions.js';
import { checkSessionRequest } from '../farm/session-request.js';
import type { FarmStore } from '../farm/store.js';
import type { SessionPhase, SessionView } from '../farm/types.js';
import { ClusterError, type FieldCause } from './errors.js';
import { plannedSession, REQUEST_ID, REQUEST_ID_FORMAT, retryObject } from './session-objects.js';
import { toSessionView } from './slim.js';
import type { Cluster, KubeObject } from './types.js';
import { explainRefusal, isConflict, preconditionsOf, readForWrite } from './write-errors.js';

export class SessionWriter {
  constructor(
    /** Impersonating the person when there is one (Cluster.as): RBAC decides as them. */
    private readonly cluster: Cluster,
    private readonly store: FarmStore,
    private readonly namespaces: readonly string[],
    /** Who acts, for the audit log line, the requested-by annotation and the Events. */
    private readonly actor?: Actor,
  ) {}

  /** Runs one write and logs how it ended (one line per write, refusals included). */
  private async audited<T>(
    verb: AuditVerb,
    object: () => { namespace: string; name: string },
    write: () => Promise<T>,
    done?: (result: T) => { namespace: string; name: string; detail?: string },
  ): Promise<T> {
    if (!this.actor) return write();
    try {
      const result = await write();
      const o: { namespace: string; name: string; detail?: string } = done ? done(result) : object();
      auditLine(this.actor, verb, o, 'ok', o.detail ? { created: o.detail } : {});
      return result;
    } catch (err) {
      const code = err instanceof AppError || err instanceof ClusterError ? err.code : 'DF_ERR_INTERNAL';
      if ((err instanceof AppError || err instanceof ClusterError) && err.status === 403) this.actor.onForbidden?.();
      auditLine(this.actor, verb, object(), code, err instanceof AppError || err instanceof ClusterError ? { status: err.status } : {});
      throw err;
    }
  }

  /**
   * Validates, then creates. With a request id the name is derived from it, so a double
   * submit finds the session the first one created instead of creating a second.
   */
  async create(body: unknown, requestId?: string): Promise<{ session: SessionView; created: boolean }> {
    const b = (typeof body === 'object' && body !== null ? body : {}) as { namespace?: unknown; name?: unknown };
    const { object, created } = await this.audited(
      'create',
      () => ({ namespace: typeof b.namespace === 'string' ? b.namespace : '', name: typeof b.name === 'string' && b.name ? b.name : '(generated)' }),
      () => this.createChecked(body, requestId),
      (r) => ({ namespace: r.object.metadata.namespace ?? '', name: r.object.metadata.name }),
    );
    return { session: toSessionView(object), created };
  }

  private async createChecked(body: unknown, requestId?: string): Promise<{ object: KubeObject; created: boolean }> {
    const checked = checkSessionRequest(body);
    if (!checked.ok) throw invalid('The session was not created: fix the fields below.', checked.errors);
    const r = checked.request;
    const problems: FieldCause[] = [];
    if (this.namespaces.length && !this.namespaces.includes(r.namespace)) {
      problems.push({ field: 'namespace', message: `the dashboard watches only ${this.namespaces.join(', ')}: a session in ${r.namespace} would never show up here` });
    } else if (!this.store.getPool(r.namespace, r.pool)) {
      problems.push({ field: 'pool', message: `there is no DevicePool ${r.pool} in ${r.namespace}` });
    } else if (r.deviceName && !this.store.getPool(r.namespace, r.pool)!.devices.some((d) => d.name === r.deviceName)) {
      problems.push({ field: 'deviceName', message: `pool ${r.pool} has no device ${r.deviceName}: the session would wait forever` });
    }
    if (requestId !== undefined && !REQUEST_ID_FORMAT.test(requestId)) problems.push({ field: 'requestId', message: 'must be 16 to 32 lowercase letters and digits' });
    if (problems.length) throw invalid('The session was not created: fix the fields below.', problems);

    const object = plannedSession(r, requestId, this.user);
    try {
      return { object: await this.cluster.create('sessions', r.namespace, object), created: true };
    } catch (err) {
      if (isConflict(err) && requestId) {
        const existing = await this.cluster.get('sessions', r.namespace, (object.metadata as { name: string }).name);
        if (existing.metadata.annotations?.[REQUEST_ID] === requestId) return { object: existing, created: false };
      }
      if (isConflict(err) && r.name) {
        throw new AppError(409, 'DF_ERR_ALREADY_EXISTS', `A TestSession named ${r.name} already exists in ${r.namespace}: choose another name, or leave Name empty to have one made up.`);
      }
      throw this.explain(err, `create TestSession in ${r.namespace}`);
    }
  }

  /** Stop: sets spec.cancelRequested; the operator ends the session as Cancelled. */
  async cancel(namespace: string, name: string): Promise<SessionView> {
    const result = await this.audited('stop', () => ({ namespace, name }), () => this.cancelChecked(namespace, name));
    if (this.actor?.identity && result.changed) await recordActionEvent(this.actor, 'stop', { namespace, name, uid: result.object.metadata.uid });
    return toSessionView(result.object);
  }

  private async cancelChecked(namespace: string, name: string): Promise<{ object: KubeObject; changed: boolean }> {
    const current = await this.current(namespace, name);
    // A stop already requested is not refused: asking again answers as the first did.
    if (!allowedOrRefused(canStop(subject(current)))) return { object: current, changed: false };
    try {
      // Only onto the version read above: the phase check must still hold when the patch lands.
      return { object: await this.cluster.patch('sessions', namespace, name, { spec: { cancelRequested: true } }, { preconditions: preconditionsOf(current) }), changed: true };
    } catch (err) {
      throw (await this.changed(err, current, 'stop')) ?? this.explain(err, `stop TestSession ${namespace}/${name}`);
    }
  }

  /** Retry: a new session with the same spec, labelled with the one it retries. */
  async retry(namespace: string, name: string): Promise<SessionView> {
    const created = await this.audited('retry', () => ({ namespace, name }), () => this.retryChecked(namespace, name), (o) => ({ namespace, name, detail: o.metadata.name }));
    if (this.actor?.identity) await recordActionEvent(this.actor, 'retry', { namespace, name }, created.metadata.name);
    return toSessionView(created);
  }

  private async retryChecked(namespace: string, name: string): Promise<KubeObject> {
    const current = await this.current(namespace, name);
    allowedOrRefused(canRetry(subject(current)));
    try {
      return await this.cluster.create('sessions', namespace, retryObject(current, this.user));
    } catch (err) {
      throw this.explain(err, `retry TestSession ${namespace}/${name}`);
    }
  }

  /** Delete: only sessions that have ended, so a running test is never pulled away. */
  async delete(namespace: string, name: string): Promise<void> {
    const uid = await this.audited('delete', () => ({ namespace, name }), () => this.deleteChecked(namespace, name));
    if (this.actor?.identity) await recordActionEvent(this.actor, 'delete', { namespace, name, uid });
  }

  private async deleteChecked(namespace: string, name: string): Promise<string | undefined> {
    const current = await this.current(namespace, name);
    allowedOrRefused(canDelete(subject(current)));
    try {
      // Only the object and version read above: a session restarted meanwhile is not deleted.
      await this.cluster.delete('sessions', namespace, name, { preconditions: preconditionsOf(current) });
      return current.metadata.uid;
    } catch (err) {
      throw (await this.changed(err, current, 'delete')) ?? this.explain(err, `delete TestSession ${namespace}/${name}`);
    }
  }

  /**
   * A write refused because its preconditions no longer hold (409 Conflict): the session
   * changed between the read and the write. Says what changed, from a fresh read.
   */
  private async changed(err: unknown, read: KubeObject, verb: 'stop' | 'delete'): Promise<AppError | undefined> {
    if (!isConflict(err)) return undefined;
    const { namespace = '', name } = read.metadata;
    let now: KubeObject | undefined;
    try {
      now = await this.cluster.get('sessions', namespace, name);
    } catch (readErr) {
      if (!(readErr instanceof ClusterError && readErr.status === 404)) throw this.explain(readErr, `read TestSession ${namespace}/${name}`);
    }
    return new AppError(409, 'DF_ERR_KUBE_CONFLICT', `TestSession ${name} was not ${verb === 'stop' ? 'stopped' : 'deleted'}: ${describeChange(read, now)}; reload and try again.`);
  }

  private current(namespace: string, name: string): Promise<KubeObject> {
    return readForWrite(this.cluster, 'sessions', namespace, name, 'TestSession', (err, action) => this.explain(err, action));
  }

  private get user(): string | undefined {
    return this.actor?.identity?.user;
  }

  /** The apiserver's refusal in the dashboard's words; schema errors keep their fields. */
  private explain(err: unknown, action: string): unknown {
    if (!(err instanceof ClusterError)) return err;
    if (err.status === 403 && this.user) {
      return new AppError(403, err.code, `You (${this.user}) may not ${action}: Kubernetes RBAC refused it (${err.message}). Ask an admin of the namespace for a RoleBinding that allows it.`);
    }
    if (err.status === 422) return invalid(`The Kubernetes API rejected the session: ${err.message}`, err.causes.map((c) => ({ field: requestField(c.field), message: c.message })));
    return explainRefusal(err, action);
  }
}

/** True when the rule allows the action; throws its 409 when it refuses; false when there is nothing to do. */
function allowedOrRefused(verdict: ActionVerdict): boolean {
  if (verdict.allowed) return true;
  if (verdict.refusal) throw new AppError(409, verdict.refusal.code, verdict.refusal.message);
  return false;
}

function subject(o: KubeObject): { name: string; phase: SessionPhase; cancelRequested: boolean } {
  return { name: o.metadata.name, phase: phaseOf(o), cancelRequested: Boolean((o.spec as { cancelRequested?: boolean } | undefined)?.cancelRequested) };
}

/** What changed between two reads of a session, in the words of the session page. */
function describeChange(before: KubeObject, after: KubeObject | undefined): string {
  if (!after) return 'it was deleted since you opened it';
  if (after.metadata.uid !== before.metadata.uid) return `it was deleted and created again since you opened it (now ${phaseOf(after)})`;
  const [was, is] = [phaseOf(before), phaseOf(after)];
  if (was !== is) return `the session changed since you opened it (now ${was} → ${is})`;
  const cancel = (o: KubeObject) => Boolean((o.spec as { cancelRequested?: boolean } | undefined)?.cancelRequested);
  if (!cancel(before) && cancel(after)) return `someone else requested a stop since you opened it (still ${is})`;
  return `the session changed since you opened it (still ${is}, its spec or status was updated)`;
}

function phaseOf(o: KubeObject): SessionPhase {
  return ((o.status as { phase?: SessionPhase } | undefined)?.phase ?? 'Pending') as SessionPhase;
}

function invalid(message: string, fields: FieldCause[]): AppError {
  return new AppError(422, 'DF_ERR_INVALID', message, fields);
}

/** spec.apps[0].apkURL → apps[0].apkURL, spec.poolRef.name → pool, metadata.name → name. */
function requestField(field: string): string {
  if (field === 'spec.poolRef.name') return 'pool';
  if (field.startsWith('metadata.labels')) return 'labels';
  return field.replace(/^spec\./, '').replace(/^metadata\./, '');
}
