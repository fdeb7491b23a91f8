// The writes on pools and devices: scale a pool (a merge patch of spec.replicas with a
// resourceVersion precondition) and restart a device (delete its pod; the pool's
// StatefulSet recreates it). Each decision rests on the object read from the apiserver, not
// on the store's copy; what would end a session needs a confirmation that names it; the
// apiserver's refusals (403, 404, 409, 422) come back as coded messages a person can act on.
// Pages change when the watch brings the result back.
import { AppError, notFound } from '../http/errors.js';
import { nameSessions, parseReplicas, sessionsLostByScaling, type LostSession } from '../farm/pool-scale.js';
import { toPoolView } from './slim.js';
import type { Cluster, KubeObject } from './types.js';
import { explainRefusal as explain, isConflict, readForWrite } from './write-errors.js';

/** How often a scale is re-decided when the pool changed between the read and the patch. */
const SCALE_ATTEMPTS = 3;

export interface ScaleResult {
  namespace: string;
  name: string;
  previous: number;
  replicas: number;
  changed: boolean;
  resourceVersion: string;
}

export interface RestartResult {
  namespace: string;
  pool: string;
  device: string;
  pod: string;
  /** The session the device held, which the restart ends ('' when idle). */
  session: string;
}

/** A write that would end sessions, asked without a confirmation naming them. */
export class ConfirmationRequired extends AppError {
  constructor(
    message: string,
    readonly lost: LostSession[],
  ) {
    super(409, 'DF_ERR_CONFIRM_REQUIRED', message);
  }
}

export class PoolWriter {
  constructor(
    private readonly cluster: Cluster,
    private readonly namespaces: readonly string[],
  ) {}

  /**
   * Scale to `replicas` (0…500). Scaling down past busy devices needs `confirm`. With a
   * `resourceVersion` the patch applies only to that version of the pool (409 otherwise);
   * without one, the version just read is the precondition, and a pool that changed
   * meanwhile (its status moves all the time) is read and decided again.
   */
  async scale(namespace: string, name: string, body: { replicas?: unknown; confirm?: unknown; resourceVersion?: unknown }): Promise<ScaleResult> {
    const parsed = parseReplicas(body.replicas);
    if (!parsed.ok) throw new AppError(422, 'DF_ERR_INVALID', `The pool was not scaled: replicas ${parsed.message}.`, [{ field: 'replicas', message: parsed.message }]);
    if (body.confirm !== undefined && typeof body.confirm !== 'boolean' && body.confirm !== 'true') {
      throw new AppError(422, 'DF_ERR_INVALID', 'The pool was not scaled: confirm must be true or false.', [{ field: 'confirm', message: 'must be true or false' }]);
    }
    if (body.resourceVersion !== undefined && (typeof body.resourceVersion !== 'string' || !/^\d{1,20}$/.test(body.resourceVersion))) {
      throw new AppError(422, 'DF_ERR_INVALID', 'The pool was not scaled: resourceVersion must be the metadata.resourceVersion of the pool as read.', [{ field: 'resourceVersion', message: 'not a resourceVersion' }]);
    }
    const confirmed = body.confirm === true || body.confirm === 'true';
    const asked = body.resourceVersion as string | undefined;
    const replicas = parsed.replicas;
    for (let attempt = 1; ; attempt++) {
      const current = await this.readPool(namespace, name);
      const pool = toPoolView(current);
      const result = { namespace, name, previous: pool.replicas, replicas, changed: false, resourceVersion: pool.resourceVersion };
      if (replicas === pool.replicas && !asked) return result;
      const lost = replicas < pool.replicas ? sessionsLostByScaling(pool.devices, replicas) : [];
      if (lost.length && !confirmed) {
        throw new ConfirmationRequired(
          `Scaling ${name} from ${pool.replicas} to ${replicas} takes the device of ${lost.length === 1 ? 'a running session' : `${lost.length} running sessions`}: ${nameSessions(lost)}. ` +
            'They end when their device goes. Confirm to scale anyway (JSON: "confirm": true).',
          lost,
        );
      }
      try {
        const patched = await this.cluster.patch('pools', namespace, name, { spec: { replicas } }, { preconditions: { resourceVersion: asked ?? pool.resourceVersion } });
        return { ...result, changed: replicas !== pool.replicas, resourceVersion: patched.metadata.resourceVersion ?? '' };
      } catch (err) {
        if (isConflict(err) && !asked && attempt < SCALE_ATTEMPTS) continue;
        if (isConflict(err) && asked) {
          throw new AppError(409, 'DF_ERR_KUBE_CONFLICT', `DevicePool ${name} changed since resourceVersion ${asked}: read it again, check the new state, and scale from there.`);
        }
        throw explain(err, `scale DevicePool ${namespace}/${name}`);
      }
    }
  }

  /**
   * Restart a device: delete its pod. A device that holds a session needs `session` naming
   * it: the restart ends that session, and a confirmation given for another session (the
   * device moved on since the page was drawn) must not end this one.
   */
  async restartDevice(namespace: string, poolName: string, device: string, body: { session?: unknown }): Promise<RestartResult> {
    if (body.session !== undefined && typeof body.session !== 'string') {
      throw new AppError(422, 'DF_ERR_INVALID', 'The device was not restarted: session must be the name of the session it ends.', [{ field: 'session', message: 'must be a string' }]);
    }
    const pool = toPoolView(await this.readPool(namespace, poolName));
    const d = pool.devices.find((x) => x.name === device);
    if (!d) throw notFound(`Device ${device} of pool ${namespace}/${poolName}`);
    if (!d.podName) {
      throw new AppError(409, 'DF_ERR_NO_DEVICE_POD', `Device ${device} reports no pod (status.devices[].podName is empty): there is nothing to restart yet. Wait for the operator to create it.`);
    }
    if (d.session && body.session !== d.session) {
      const changed = body.session ? ` (the confirmation named ${body.session}, but the device has moved on)` : '';
      throw new ConfirmationRequired(
        `Device ${device} runs session ${d.session}${changed}: restarting it ends that session. Confirm naming it to restart anyway (JSON: "session": "${d.session}").`,
        [{ device, session: d.session }],
      );
    }
    try {
      await this.cluster.delete('pods', namespace, d.podName);
    } catch (err) {
      throw explain(err, `delete pod ${namespace}/${d.podName} of device ${device}`);
    }
    return { namespace, pool: poolName, device, pod: d.podName, session: d.session };
  }

  private async readPool(namespace: string, name: string): Promise<KubeObject> {
    if (this.namespaces.length && !this.namespaces.includes(namespace)) throw notFound(`DevicePool ${namespace}/${name} (this dashboard watches only ${this.namespaces.join(', ')})`);
    return readForWrite(this.cluster, 'pools', namespace, name, 'DevicePool');
  }
}
