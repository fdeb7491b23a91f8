// The TestSession objects the dashboard's writes send: a new session from a request, a
// retry of an ended one, a lease. With a request id (the forms send one; scripts may send
// Idempotency-Key) the name derives from it, so a double submit finds the first object
// instead of making a second.
import { createHash, randomBytes } from 'node:crypto';
import { REQUESTED_BY } from '../farm/audit.js';
import { sessionObject, type SessionRequest } from '../farm/session-request.js';
import { LEASE_HOLDER, LEASE_REASON, RETRY_OF } from './slim.js';
import type { KubeObject, NewKubeObject } from './types.js';

export { RETRY_OF };
export const REQUEST_ID = 'droidfarm.io/request-id';
export const REQUEST_ID_FORMAT = /^[a-z0-9]{16,32}$/;

export const newRequestId = (): string => randomBytes(10).toString('hex');

/** The object create() sends for a request: with a request id, its name derives from it. */
export function plannedSession(r: SessionRequest, requestId?: string, user?: string) {
  const annotations = { ...(requestId ? { [REQUEST_ID]: requestId } : {}), ...requestedBy(user) };
  return sessionObject(r, {
    ...(requestId ? { name: `${r.pool.slice(0, 40).replace(/[.-]+$/, '')}-${requestId.slice(0, 10)}` } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  });
}

/** A new session with the spec of `ended` (less its stop request), labelled with the one it retries. */
export function retryObject(ended: KubeObject, user?: string): NewKubeObject {
  const name = ended.metadata.name;
  const { cancelRequested: _dropped, ...spec } = (ended.spec ?? {}) as { cancelRequested?: boolean };
  const labels = { ...(ended.metadata.labels ?? {}), [RETRY_OF]: retryLabel(name) };
  return {
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'TestSession',
    metadata: { generateName: `${name.slice(0, 50).replace(/[.-]+$/, '')}-retry-`, labels, annotations: { [RETRY_OF]: name, ...requestedBy(user) } },
    spec,
  };
}

/** A lease: a TestSession without a runner, on `device` or on any idle device of the pool. */
export function leaseObject(l: { namespace: string; pool: string; device: string | undefined; minutes: number; holder: string; reason: string; requestId?: string | undefined; person?: string | undefined }) {
  const base = (l.device ?? l.pool).slice(0, 40).replace(/[.-]+$/, '');
  return sessionObject(
    { namespace: l.namespace, name: '', pool: l.pool, deviceName: l.device ?? '', timeoutSeconds: l.minutes * 60, apps: [], runner: undefined, labels: {} },
    {
      ...(l.requestId ? { name: `${base}-lease-${l.requestId.slice(0, 10)}` } : { generateName: `${base}-lease-` }),
      annotations: { [LEASE_HOLDER]: l.holder, [LEASE_REASON]: l.reason, ...(l.requestId ? { [REQUEST_ID]: l.requestId } : {}), ...requestedBy(l.person) },
    },
  );
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
