// What the /api/v1 routes answer besides their 2xx, by status, and the parts of their
// schemas they share. Each route's schema lists its own in `errors`; the OpenAPI document
// (openapi.ts) turns them into responses of the Error shape.
import { TESTSESSION_SPEC_SCHEMA } from '../../farm/testsession-schema.js';
import { namespaceName, objectName } from '../../http/schema.js';
import { DNS_LABEL_PATTERN } from '../../kube/names.js';

type Errors = Record<string, { codes: readonly string[]; description: string }>;

/** Errors any request can meet: a bad parameter, not read yet, the cluster refused the dashboard, limits. */
export const READ_ERRORS: Errors = {
  '400': { codes: ['DF_ERR_BAD_REQUEST'], description: 'A bad parameter; `fields` names it' },
  '403': { codes: ['DF_ERR_KUBE_FORBIDDEN'], description: "The dashboard's RBAC lacks a permission; the message names verb, resource and namespace" },
  '414': { codes: ['DF_ERR_NAME_TOO_LONG'], description: 'A name in the path longer than Kubernetes allows' },
  '429': { codes: ['DF_ERR_RATE_LIMITED'], description: 'Too many requests from one address; Retry-After says when' },
  '500': { codes: ['DF_ERR_INTERNAL'], description: 'An internal error; the details are in the log' },
  '503': { codes: ['DF_ERR_NOT_SYNCED', 'DF_ERR_KUBE_UNAVAILABLE', 'DF_ERR_KUBE_INTERNAL'], description: 'Not read the cluster yet, or the cluster is unreachable; retry' },
};

/** Errors of a write besides those. */
export const WRITE_ERRORS: Errors = {
  ...READ_ERRORS,
  '403': { codes: ['DF_ERR_KUBE_FORBIDDEN', 'DF_ERR_CROSS_SITE', 'DF_ERR_READ_ONLY'], description: 'Refused: RBAC, a cross-site browser write, or a read-only dashboard' },
  '409': { codes: ['DF_ERR_SESSION_FINISHED', 'DF_ERR_SESSION_NOT_FINISHED', 'DF_ERR_ALREADY_EXISTS', 'DF_ERR_KUBE_CONFLICT'], description: 'The session is not in a state for this' },
  '502': { codes: ['DF_ERR_KUBE_UNAUTHORIZED'], description: "The Kubernetes API refused the dashboard's own credentials" },
};

export const NOT_FOUND: Errors = { '404': { codes: ['DF_ERR_NOT_FOUND'], description: 'No such object' } };

/** A retried write finds what the first one made. */
export const idempotencyKey = {
  type: 'object',
  properties: {
    'idempotency-key': { type: 'string', description: '16 to 32 lowercase letters and digits: a retried request finds what the first one created.' },
  },
} as const;

/** Where the session an answer describes lives in the API. */
export const sessionLocation = (namespace: string, name: string): string => `/api/v1/sessions/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

const spec = TESTSESSION_SPEC_SCHEMA.properties as Record<string, Record<string, unknown>>;

/**
 * POST /api/v1/sessions's body as documented: the wrapper fields, and the spec's own fields
 * as the TestSession CRD describes them (src/farm/testsession-schema.ts). The rule that
 * checks it is the CRD's (src/farm/session-spec.ts), not a route schema.
 */
export const SESSION_REQUEST = {
  type: 'object',
  required: ['namespace', 'pool'],
  additionalProperties: false,
  properties: {
    namespace: { ...namespaceName, pattern: DNS_LABEL_PATTERN, description: 'The namespace to create it in.' },
    pool: { ...(spec.poolRef?.properties as Record<string, unknown> | undefined)?.name as object, description: 'A DevicePool in the namespace.' },
    name: { ...objectName, description: 'Leave out to have one made up.' },
    deviceName: spec.deviceName,
    timeoutSeconds: spec.timeoutSeconds,
    apps: spec.apps,
    runner: spec.runner,
    labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Labels of the TestSession (at most 64).' },
  },
} as const;
