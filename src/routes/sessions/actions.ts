// The only writes the dashboard makes: create, stop, retry and delete TestSessions. They go
// to the apiserver and nowhere else; pages change when the watch brings the result back.
// Each refuses what makes no sense with a 409 that says why, and maps the apiserver's own
// refusals (403, 404, 409, 422) to messages a person can act on.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, notFound } from '../../http/errors.js';
import { ClusterError, type FieldCause } from '../../kube/errors.js';
import type { Cluster, KubeObject, Preconditions } from '../../kube/types.js';
import type { FarmStore } from '../../farm/store.js';
import { FINISHED_PHASES, type SessionPhase } from '../../farm/types.js';
import { checkSessionRequest, sessionObject, type SessionRequest } from '../../farm/session-request.js';
import { RETRY_OF } from '../../kube/slim.js';
import { auditLine, recordActionEvent, REQUESTED_BY, type Actor, type AuditVerb } from '../../farm/audit.js';

export { RETRY_OF };
export const REQUEST_ID = 'droidfarm.io/request-id';
const REQUEST_ID_FORMAT = /^[a-z0-9]{16,32}$/;

export const newRequestId = (): string => randomBytes(10).toString('hex');

export class SessionActions {
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
   * Validates, asks the apiserver for a dry run, then creates. With a request id (the form
   * sends one; scripts may send Idempotency-Key) the name is derived from it, so a double
   * submit finds the session the first one created instead of creating a second.
   */
  async create(body: unknown, requestId?: string): Promise<{ object: KubeObject; created: boolean }> {
    const b = (typeof body === 'object' && body !== null ? body : {}) as { namespace?: unknown; name?: unknown };
    return this.audited(
      'create',
      () => ({ namespace: typeof b.namespace === 'string' ? b.namespace : '', name: typeof b.name === 'string' && b.name ? b.name : '(generated)' }),
      () => this.createChecked(body, requestId),
      (r) => ({ namespace: r.object.metadata.namespace ?? '', name: r.object.metadata.name }),
    );
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

    const object = plannedSession(r, requestId, this.actor?.identity?.user);
    try {
      return { object: await this.cluster.create('sessions', r.namespace, object), created: true };
    } catch (err) {
      if (err instanceof ClusterError && err.status === 409 && requestId) {
        const existing = await this.cluster.get('sessions', r.namespace, (object.metadata as { name: string }).name);
        if (existing.metadata.annotations?.[REQUEST_ID] === requestId) return { object: existing, created: false };
      }
      if (err instanceof ClusterError && err.status === 409 && r.name) {
        throw new AppError(409, 'DF_ERR_ALREADY_EXISTS', `A TestSession named ${r.name} already exists in ${r.namespace}: choose another name, or leave Name empty to have one made up.`);
      }
      throw explain(err, this.actor?.identity?.user, `create TestSession in ${r.namespace}`);
    }
  }

  /** Stop: sets spec.cancelRequested; the operator ends the session as Cancelled. */
  async cancel(namespace: string, name: string): Promise<KubeObject> {
    const result = await this.audited('stop', () => ({ namespace, name }), () => this.cancelChecked(namespace, name));
    if (this.actor?.identity && result.changed) await recordActionEvent(this.actor, 'stop', { namespace, name, uid: result.object.metadata.uid });
    return result.object;
  }

  private async cancelChecked(namespace: string, name: string): Promise<{ object: KubeObject; changed: boolean }> {
    const current = await this.current(namespace, name);
    const phase = phaseOf(current);
    if (FINISHED_PHASES.has(phase)) throw new AppError(409, 'DF_ERR_SESSION_FINISHED', `TestSession ${name} already ended (${phase}): there is nothing to stop.`);
    if ((current.spec as { cancelRequested?: boolean } | undefined)?.cancelRequested) return { object: current, changed: false };
    try {
      // Only onto the version read above: the phase check must still hold when the patch lands.
      return { object: await this.cluster.patch('sessions', namespace, name, { spec: { cancelRequested: true } }, { preconditions: preconditionsOf(current) }), changed: true };
    } catch (err) {
      throw (await this.changed(err, current, 'stop')) ?? explain(err, this.actor?.identity?.user, `stop TestSession ${namespace}/${name}`);
    }
  }

  /** Retry: a new session with the same spec, labelled with the one it retries. */
  async retry(namespace: string, name: string): Promise<KubeObject> {
    const created = await this.audited('retry', () => ({ namespace, name }), () => this.retryChecked(namespace, name), (o) => ({ namespace, name, detail: o.metadata.name }));
    if (this.actor?.identity) await recordActionEvent(this.actor, 'retry', { namespace, name }, created.metadata.name);
    return created;
  }

  private async retryChecked(namespace: string, name: string): Promise<KubeObject> {
    const current = await this.current(namespace, name);
    const phase = phaseOf(current);
    if (!FINISHED_PHASES.has(phase)) throw new AppError(409, 'DF_ERR_SESSION_NOT_FINISHED', `TestSession ${name} is still ${phase}: retry it once it has ended, or stop it first.`);
    const spec = (current.spec ?? {}) as { cancelRequested?: boolean };
    const { cancelRequested: _dropped, ...rest } = spec;
    const labels = { ...(current.metadata.labels ?? {}), [RETRY_OF]: retryLabel(name) };
    try {
      return await this.cluster.create('sessions', namespace, {
        apiVersion: 'droidfarm.io/v1alpha1',
        kind: 'TestSession',
        metadata: { generateName: `${name.slice(0, 50).replace(/[.-]+$/, '')}-retry-`, labels, annotations: { [RETRY_OF]: name, ...requestedBy(this.actor?.identity?.user) } },
        spec: rest,
      });
    } catch (err) {
      throw explain(err, this.actor?.identity?.user, `retry TestSession ${namespace}/${name}`);
    }
  }

  /** Delete: only sessions that have ended, so a running test is never pulled away. */
  async delete(namespace: string, name: string): Promise<void> {
    const uid = await this.audited('delete', () => ({ namespace, name }), () => this.deleteChecked(namespace, name));
    if (this.actor?.identity) await recordActionEvent(this.actor, 'delete', { namespace, name, uid });
  }

  private async deleteChecked(namespace: string, name: string): Promise<string | undefined> {
    const current = await this.current(namespace, name);
    const phase = phaseOf(current);
    if (!FINISHED_PHASES.has(phase)) throw new AppError(409, 'DF_ERR_SESSION_NOT_FINISHED', `TestSession ${name} is still ${phase}: stop it and wait until it has ended before deleting it.`);
    try {
      // Only the object and version read above: a session restarted meanwhile is not deleted.
      await this.cluster.delete('sessions', namespace, name, { preconditions: preconditionsOf(current) });
      return current.metadata.uid;
    } catch (err) {
      throw (await this.changed(err, current, 'delete')) ?? explain(err, this.actor?.identity?.user, `delete TestSession ${namespace}/${name}`);
    }
  }

  /**
   * A write refused because its preconditions no longer hold (409 Conflict): the session
   * changed between the read and the write. Says what changed, from a fresh read.
   */
  private async changed(err: unknown, read: KubeObject, verb: 'stop' | 'delete'): Promise<AppError | undefined> {
    if (!(err instanceof ClusterError) || err.status !== 409) return undefined;
    const { namespace = '', name } = read.metadata;
    let now: KubeObject | undefined;
    try {
      now = await this.cluster.get('sessions', namespace, name);
    } catch (readErr) {
      if (!(readErr instanceof ClusterError && readErr.status === 404)) throw explain(readErr, this.actor?.identity?.user, `read TestSession ${namespace}/${name}`);
    }
    return new AppError(409, 'DF_ERR_KUBE_CONFLICT', `TestSession ${name} was not ${verb === 'stop' ? 'stopped' : 'deleted'}: ${describeChange(read, now)}; reload and try again.`);
  }

  /** Read from the apiserver, not the store: the decision must not rest on a stale copy. */
  private async current(namespace: string, name: string): Promise<KubeObject> {
    try {
      return await this.cluster.get('sessions', namespace, name);
    } catch (err) {
      if (err instanceof ClusterError && err.status === 404) throw notFound(`TestSession ${namespace}/${name}`);
      throw explain(err, this.actor?.identity?.user, `read TestSession ${namespace}/${name}`);
    }
  }
}

/**
 * The actions for one request: as its person when someone signed in (the apiserver then
 * decides with their RBAC and its audit log names them), as the dashboard otherwise.
 */
export function actionsFor(app: FastifyInstance, request: FastifyRequest): SessionActions {
  const { cluster, store, config } = app.farm;
  const identity = request.identity;
  return new SessionActions(identity ? cluster.as(identity) : cluster, store, config.namespaces, {
    identity,
    requestId: request.id,
    log: request.log,
    events: cluster,
    ...(identity ? { onForbidden: () => app.farm.access.forget(identity) } : {}),
  });
}

/** The object create() sends for a request: with a request id, its name derives from it. */
export function plannedSession(r: SessionRequest, requestId?: string, user?: string) {
  const annotations = { ...(requestId ? { [REQUEST_ID]: requestId } : {}), ...requestedBy(user) };
  return sessionObject(r, {
    ...(requestId ? { name: `${r.pool.slice(0, 40).replace(/[.-]+$/, '')}-${requestId.slice(0, 10)}` } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  });
}

/** The annotation naming who asked for a session; none when nobody signed in. */
function requestedBy(user: string | undefined): Record<string, string> {
  return user ? { [REQUESTED_BY]: user } : {};
}

/**
 * The retry-of label's value: the name itself when it fits a label value (63 characters),
 * else its start and a hash, so a selector can still find the retries of one session.
 */
export function retryLabel(name: string): string {
  if (name.length <= 63) return name;
  return `${name.slice(0, 52).replace(/[.-]+$/, '')}-${createHash('sha256').update(name).digest('hex').slice(0, 10)}`;
}

function preconditionsOf(o: KubeObject): Preconditions {
  return { ...(o.metadata.uid ? { uid: o.metadata.uid } : {}), ...(o.metadata.resourceVersion ? { resourceVersion: o.metadata.resourceVersion } : {}) };
}

/** What changed between two reads of a session, in the words of the session page. */
export function describeChange(before: KubeObject, after: KubeObject | undefined): string {
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

/** The apiserver's refusal in the dashboard's words; schema errors keep their fields. */
function explain(err: unknown, user: string | undefined, action: string): unknown {
  if (!(err instanceof ClusterError)) return err;
  if (err.status === 403 && user) {
    return new AppError(403, err.code, `You (${user}) may not ${action}: Kubernetes RBAC refused it (${err.message}). Ask an admin of the namespace for a RoleBinding that allows it.`);
  }
  if (err.status === 422) return invalid(`The Kubernetes API rejected the session: ${err.message}`, err.causes.map((c) => ({ field: requestField(c.field), message: c.message })));
  if (err.status >= 500 || err.status === 401) return err;
  return new AppError(err.status, err.code, err.explain(action));
}

/** spec.apps[0].apkURL → apps[0].apkURL, spec.poolRef.name → pool, metadata.name → name. */
export function requestField(field: string): string {
  if (field === 'spec.poolRef.name') return 'pool';
  if (field.startsWith('metadata.labels')) return 'labels';
  return field.replace(/^spec\./, '').replace(/^metadata\./, '');
}

