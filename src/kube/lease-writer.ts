// Lease writes: "Use this device" (a claim on one named device) and "Use any idle device"
// (a claim on the pool), Extend and Release. A lease is a TestSession without a runner,
// with spec.deviceName when it names a device; the operator assigns it when the device is
// Idle and ends it on Stop or at its timeout. Who holds it and why are annotations the
// pages show. Every decision reads the apiserver; pages change when the watch brings it back.
import { AppError, notFound } from '../http/errors.js';
import type { FarmStore } from '../farm/store.js';
import { FINISHED_PHASES, type SessionView } from '../farm/types.js';
import { extendedTimeout, isClaim, MAX_HOLDER, MAX_REASON, parseLeaseMinutes } from '../farm/lease.js';
import { ClusterError, type FieldCause } from './errors.js';
import { leaseObject, REQUEST_ID, REQUEST_ID_FORMAT } from './session-objects.js';
import { toSessionView } from './slim.js';
import type { Cluster, KubeObject } from './types.js';
import { explainRefusal, isConflict, readForWrite } from './write-errors.js';

export interface LeaseRequest {
  minutes?: unknown;
  holder?: unknown;
  reason?: unknown;
  requestId?: unknown;
}

export class LeaseWriter {
  constructor(
    private readonly cluster: Cluster,
    private readonly store: FarmStore,
    private readonly namespaces: readonly string[],
    /** The signed-in person (--auth proxy|bearer): the holder, whatever the form says. */
    private readonly person?: string,
  ) {}

  /**
   * A lease on `device` of the pool, or on any idle device when it is undefined. It waits
   * (Pending) while the device is busy. With a request id a double submit finds the lease
   * the first one made instead of making a second.
   */
  async create(namespace: string, pool: string, device: string | undefined, body: LeaseRequest): Promise<{ session: SessionView; created: boolean }> {
    const problems: FieldCause[] = [];
    const minutes = parseLeaseMinutes(body.minutes);
    if (!minutes.ok) problems.push({ field: 'minutes', message: minutes.message });
    const holder = this.person ?? (typeof body.holder === 'string' ? body.holder.trim() : '');
    if (!holder) problems.push({ field: 'holder', message: 'say who holds the device, so others know whom to ask' });
    else if (holder.length > MAX_HOLDER || /[\u0000-\u001f\u007f]/.test(holder)) problems.push({ field: 'holder', message: `at most ${MAX_HOLDER} characters, on one line` });
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    if (!reason) problems.push({ field: 'reason', message: 'say why the device is held' });
    else if (reason.length > MAX_REASON || /[\u0000-\u001f\u007f]/.test(reason)) problems.push({ field: 'reason', message: `at most ${MAX_REASON} characters, on one line` });
    const requestId = typeof body.requestId === 'string' && body.requestId !== '' ? body.requestId : undefined;
    if (requestId !== undefined && !REQUEST_ID_FORMAT.test(requestId)) problems.push({ field: 'requestId', message: 'must be 16 to 32 lowercase letters and digits' });
    if (problems.length || !minutes.ok) throw new AppError(422, 'DF_ERR_INVALID', 'The device was not reserved: fix the fields below.', problems);

    if (this.namespaces.length && !this.namespaces.includes(namespace)) throw notFound(`DevicePool ${namespace}/${pool} (this dashboard watches only ${this.namespaces.join(', ')})`);
    const p = this.store.getPool(namespace, pool);
    if (!p) throw notFound(`DevicePool ${namespace}/${pool}`);
    if (device !== undefined && !p.devices.some((d) => d.name === device)) throw notFound(`Device ${device} of pool ${namespace}/${pool}`);

    const object = leaseObject({ namespace, pool, device, minutes: minutes.minutes, holder, reason, requestId, person: this.person });
    try {
      return { session: toSessionView(await this.cluster.create('sessions', namespace, object)), created: true };
    } catch (err) {
      if (isConflict(err) && requestId) {
        const existing = await this.cluster.get('sessions', namespace, (object.metadata as { name: string }).name);
        if (existing.metadata.annotations?.[REQUEST_ID] === requestId) return { session: toSessionView(existing), created: false };
      }
      throw explain(err, `create a lease (TestSession) in ${namespace}`);
    }
  }

  /** Extend: raise spec.timeoutSeconds by 30 minutes (up to the CRD's 24 h). */
  async extend(namespace: string, name: string): Promise<SessionView> {
    const current = await this.readLease(namespace, name);
    const view = toSessionView(current);
    const next = extendedTimeout(view.spec.timeoutSeconds);
    if (next === undefined) throw new AppError(409, 'DF_ERR_LEASE_AT_MAXIMUM', `Lease ${name} already lasts 24 hours, the most a TestSession may (spec.timeoutSeconds 86400). Make a new lease when it ends.`);
    try {
      return toSessionView(await this.cluster.patch('sessions', namespace, name, { spec: { timeoutSeconds: next } }, { preconditions: { resourceVersion: current.metadata.resourceVersion } }));
    } catch (err) {
      throw explain(err, `extend lease ${namespace}/${name}`);
    }
  }

  /** Release = Stop, for a lease that is the device's own session now (what the page confirmed). */
  async release(namespace: string, pool: string, device: string, session: unknown): Promise<SessionView> {
    if (typeof session !== 'string' || !session) throw new AppError(422, 'DF_ERR_INVALID', 'Nothing was released: name the lease (session) to end.', [{ field: 'session', message: 'required' }]);
    const current = await this.readLease(namespace, session);
    const view = toSessionView(current);
    if (view.spec.poolName !== pool || (view.device?.name !== device && view.spec.deviceName !== device)) {
      throw new AppError(409, 'DF_ERR_NOT_A_LEASE', `Session ${session} is not a lease on device ${device} (any more): nothing was released.`);
    }
    if (view.spec.cancelRequested) return view;
    try {
      return toSessionView(await this.cluster.patch('sessions', namespace, session, { spec: { cancelRequested: true } }));
    } catch (err) {
      throw explain(err, `release lease ${namespace}/${session}`);
    }
  }

  /** The session from the apiserver, refused unless it is a running or waiting claim. */
  private async readLease(namespace: string, name: string): Promise<KubeObject> {
    const current = await readForWrite(this.cluster, 'sessions', namespace, name, 'TestSession', explain);
    const view = toSessionView(current);
    if (!isClaim(view)) throw new AppError(409, 'DF_ERR_NOT_A_LEASE', `TestSession ${name} runs tests (it has a runner): it is not a lease. Stop it from its own page.`);
    if (FINISHED_PHASES.has(view.phase)) throw new AppError(409, 'DF_ERR_SESSION_FINISHED', `Lease ${name} already ended (${view.phase}).`);
    return current;
  }
}

/** A schema refusal (422) keeps the apiserver's causes; the rest as for every write. */
function explain(err: unknown, action: string): unknown {
  if (err instanceof ClusterError && err.status === 422) return new AppError(422, 'DF_ERR_INVALID', `The Kubernetes API rejected the request to ${action}: ${err.message}`, err.causes);
  return explainRefusal(err, action);
}
