// The only writes the dashboard makes: create, stop, retry and delete TestSessions. They go
// to the apiserver and nowhere else; pages change when the watch brings the result back.
// Each refuses what makes no sense with a 409 that says why, and maps the apiserver's own
// refusals (403, 404, 409, 422) to messages a person can act on.
import { createHash, randomBytes } from 'node:crypto';
import { AppError, notFound } from '../../http/errors.js';
import { ClusterError, type FieldCause } from '../../kube/errors.js';
import type { Cluster, KubeObject } from '../../kube/types.js';
import type { FarmStore } from '../../farm/store.js';
import { FINISHED_PHASES, type SessionPhase } from '../../farm/types.js';
import { checkSessionRequest, sessionObject, type SessionRequest } from '../../farm/session-request.js';
import { RETRY_OF } from '../../kube/slim.js';

export { RETRY_OF };
export const REQUEST_ID = 'droidfarm.io/request-id';
const REQUEST_ID_FORMAT = /^[a-z0-9]{16,32}$/;

export const newRequestId = (): string => randomBytes(10).toString('hex');

export class SessionActions {
  constructor(
    private readonly cluster: Cluster,
    private readonly store: FarmStore,
    private readonly namespaces: readonly string[],
  ) {}

  /**
   * Validates, asks the apiserver for a dry run, then creates. With a request id (the form
   * sends one; scripts may send Idempotency-Key) the name is derived from it, so a double
   * submit finds the session the first one created instead of creating a second.
   */
  async create(body: unknown, requestId?: string): Promise<{ object: KubeObject; created: boolean }> {
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

    const object = plannedSession(r, requestId);
    try {
      await this.cluster.create('sessions', r.namespace, object, { dryRun: true });
      return { object: await this.cluster.create('sessions', r.namespace, object), created: true };
    } catch (err) {
      if (err instanceof ClusterError && err.status === 409 && requestId) {
        const existing = await this.cluster.get('sessions', r.namespace, (object.metadata as { name: string }).name);
        if (existing.metadata.annotations?.[REQUEST_ID] === requestId) return { object: existing, created: false };
      }
      if (err instanceof ClusterError && err.status === 409 && r.name) {
        throw new AppError(409, 'DF_ERR_ALREADY_EXISTS', `A TestSession named ${r.name} already exists in ${r.namespace}: choose another name, or leave Name empty to have one made up.`);
      }
      throw explain(err, `create TestSession in ${r.namespace}`);
    }
  }

  /** Stop: sets spec.cancelRequested; the operator ends the session as Cancelled. */
  async cancel(namespace: string, name: string): Promise<KubeObject> {
    const current = await this.current(namespace, name);
    const phase = phaseOf(current);
    if (FINISHED_PHASES.has(phase)) throw new AppError(409, 'DF_ERR_SESSION_FINISHED', `TestSession ${name} already ended (${phase}): there is nothing to stop.`);
    if ((current.spec as { cancelRequested?: boolean } | undefined)?.cancelRequested) return current;
    try {
      return await this.cluster.patch('sessions', namespace, name, { spec: { cancelRequested: true } });
    } catch (err) {
      throw explain(err, `stop TestSession ${namespace}/${name}`);
    }
  }

  /** Retry: a new session with the same spec, labelled with the one it retries. */
  async retry(namespace: string, name: string): Promise<KubeObject> {
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
        metadata: { generateName: `${name.slice(0, 50).replace(/[.-]+$/, '')}-retry-`, labels, annotations: { [RETRY_OF]: name } },
        spec: rest,
      });
    } catch (err) {
      throw explain(err, `retry TestSession ${namespace}/${name}`);
    }
  }

  /** Delete: only sessions that have ended, so a running test is never pulled away. */
  async delete(namespace: string, name: string): Promise<void> {
    const current = await this.current(namespace, name);
    const phase = phaseOf(current);
    if (!FINISHED_PHASES.has(phase)) throw new AppError(409, 'DF_ERR_SESSION_NOT_FINISHED', `TestSession ${name} is still ${phase}: stop it and wait until it has ended before deleting it.`);
    try {
      await this.cluster.delete('sessions', namespace, name);
    } catch (err) {
      throw explain(err, `delete TestSession ${namespace}/${name}`);
    }
  }

  /** Read from the apiserver, not the store: the decision must not rest on a stale copy. */
  private async current(namespace: string, name: string): Promise<KubeObject> {
    try {
      return await this.cluster.get('sessions', namespace, name);
    } catch (err) {
      if (err instanceof ClusterError && err.status === 404) throw notFound(`TestSession ${namespace}/${name}`);
      throw explain(err, `read TestSession ${namespace}/${name}`);
    }
  }
}

/** The object create() sends for a request: with a request id, its name derives from it. */
export function plannedSession(r: SessionRequest, requestId?: string) {
  return sessionObject(r, requestId ? { name: `${r.pool.slice(0, 40).replace(/[.-]+$/, '')}-${requestId.slice(0, 10)}`, annotations: { [REQUEST_ID]: requestId } } : {});
}

/**
 * The retry-of label's value: the name itself when it fits a label value (63 characters),
 * else its start and a hash, so a selector can still find the retries of one session.
 */
export function retryLabel(name: string): string {
  if (name.length <= 63) return name;
  return `${name.slice(0, 52).replace(/[.-]+$/, '')}-${createHash('sha256').update(name).digest('hex').slice(0, 10)}`;
}

function phaseOf(o: KubeObject): SessionPhase {
  return ((o.status as { phase?: SessionPhase } | undefined)?.phase ?? 'Pending') as SessionPhase;
}

function invalid(message: string, fields: FieldCause[]): AppError {
  return new AppError(422, 'DF_ERR_INVALID', message, fields);
}

/** The apiserver's refusal in the dashboard's words; schema errors keep their fields. */
function explain(err: unknown, action: string): unknown {
  if (!(err instanceof ClusterError)) return err;
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

