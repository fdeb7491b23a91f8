// What every write of the dashboard shares: it decides on the object read from the
// apiserver just before (not on the store's copy), writes only onto that version
// (preconditions), and turns the apiserver's refusals into coded messages a person can
// act on. 5xx and 401 stay cluster errors: the error handler says the cluster is unwell.
import { AppError, notFound } from '../http/errors.js';
import { ClusterError } from './errors.js';
import type { ResourceName } from './resources.js';
import type { Cluster, KubeObject, Preconditions } from './types.js';

/** The apiserver's refusal in the dashboard's words. */
export function explainRefusal(err: unknown, action: string): unknown {
  if (!(err instanceof ClusterError)) return err;
  if (err.status >= 500 || err.status === 401) return err;
  return new AppError(err.status, err.code, err.explain(action));
}

/** Read from the apiserver, not the store: the decision must not rest on a stale copy. */
export async function readForWrite(
  cluster: Cluster,
  resource: ResourceName,
  namespace: string,
  name: string,
  what: string,
  explain: (err: unknown, action: string) => unknown = explainRefusal,
): Promise<KubeObject> {
  try {
    return await cluster.get(resource, namespace, name);
  } catch (err) {
    if (err instanceof ClusterError && err.status === 404) throw notFound(`${what} ${namespace}/${name}`);
    throw explain(err, `read ${what} ${namespace}/${name}`);
  }
}

/** Only onto the object and version read: another uid or resourceVersion makes the write a 409. */
export function preconditionsOf(o: KubeObject): Preconditions {
  return { ...(o.metadata.uid ? { uid: o.metadata.uid } : {}), ...(o.metadata.resourceVersion ? { resourceVersion: o.metadata.resourceVersion } : {}) };
}

/** A conflict (409) the apiserver answered because a precondition no longer holds, or an existing name. */
export const isConflict = (err: unknown): err is ClusterError => err instanceof ClusterError && err.status === 409;
