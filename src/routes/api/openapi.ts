// The JSON API's machine-readable contract: an OpenAPI 3.1 document at /api/v1/openapi.json,
// with every path, parameter, response shape and error code. The shapes are those of
// src/farm/json.ts; test/integration/openapi.test.ts checks that every /api/v1 route is here
// and that the integration tests' real answers validate against these schemas.
import type { FastifyInstance } from 'fastify';
import { MAX_LIMIT } from '../../farm/session-query.js';
import { DEVICE_STATES, SESSION_PHASES } from '../../farm/types.js';

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const nullable = (type: string, extra: Schema = {}): Schema => ({ type: [type, 'null'], ...extra });
const time: Schema = nullable('string', { format: 'date-time' });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const obj = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({ type: 'object', properties, required });
const list = (items: Schema): Schema => ({ type: 'array', items });
const labels: Schema = { type: 'object', additionalProperties: str };

const schemas: Record<string, Schema> = {
  Error: obj({
    error: obj(
      {
        code: { type: 'string', pattern: '^DF_ERR_[A-Z_]+$', description: "A stable code; the README's error table says what each means." },
        message: { type: 'string', description: 'What went wrong and what to do, for a person.' },
        fields: list(obj({ field: str, message: str })),
      },
      ['code', 'message'],
    ),
  }),
  Template: obj({
    namespace: str,
    name: str,
    androidVersion: str,
    avdProfile: str,
    emulationBackend: str,
    resources: obj({ cpu: str, memory: str }),
    apps: list(obj({ packageName: str, apkURL: str })),
    createdAt: time,
  }),
  Pool: obj({
    namespace: str,
    name: str,
    template: str,
    replicas: { type: 'integer' },
    devices: { type: 'integer', description: 'Devices the operator reports.' },
    counts: obj(Object.fromEntries(DEVICE_STATES.map((s) => [s.toLowerCase(), { type: 'integer', minimum: 0 }]))),
    idleCapacity: { type: 'number' },
    reconciling: { type: 'boolean' },
    labels,
    conditions: list(obj({ type: str, status: { enum: ['True', 'False', 'Unknown'] }, reason: str, message: str, lastTransitionTime: time })),
    createdAt: time,
  }),
  Device: obj({
    name: str,
    state: { enum: [...DEVICE_STATES] },
    session: nullable('string'),
    podName: nullable('string'),
    nodeName: nullable('string'),
    streamURL: nullable('string'),
    appiumURL: nullable('string'),
    bootStartedAt: time,
    readyAt: time,
    lastHeartbeatTime: time,
    heartbeatStale: { type: 'boolean' },
    message: nullable('string'),
  }),
  DeviceDetail: {
    allOf: [
      ref('Device'),
      obj({
        namespace: str,
        pool: str,
        history: obj({
          window: { const: '24h' },
          sessions: { type: 'integer' },
          byPhase: obj({ Succeeded: { type: 'integer' }, Failed: { type: 'integer' }, Cancelled: { type: 'integer' }, TimedOut: { type: 'integer' } }),
          failureRate: nullable('number'),
          poolFailureRate: nullable('number'),
          suspect: nullable('object', { properties: { pValue: { type: 'number' } } }),
          recent: list(obj({ namespace: str, name: str, phase: str, reason: nullable('string'), finishedAt: time, runSeconds: nullable('number'), href: str })),
          lastBoot: nullable('object', { properties: { bootStartedAt: time, readyAt: time, seconds: nullable('number') }, required: ['bootStartedAt', 'readyAt', 'seconds'] }),
          unhealthyEpisodes: obj({
            seenSince: { type: 'string', format: 'date-time', description: 'Since when this dashboard has been watching: it keeps episodes in memory only, a restart forgets them.' },
            dropped: { type: 'integer', description: 'Older episodes dropped past the per-device bound.' },
            items: list(
              obj({
                start: { type: 'string', format: 'date-time' },
                startSeen: { type: 'boolean', description: 'false: already Unhealthy when the dashboard first saw it (it may have begun earlier).' },
                end: time,
                ongoing: { type: 'boolean' },
                seconds: { type: 'number' },
                endedAs: nullable('string', { description: 'The state it went to, or removed.' }),
                reason: nullable('string', { description: "The first line of the device's message." }),
              }),
            ),
          }),
        }),
      }),
    ],
  },
  SessionSummary: obj({
    namespace: str,
    name: str,
    pool: str,
    phase: { enum: [...SESSION_PHASES] },
    device: nullable('string'),
    progress: nullable('object', { properties: { completed: { type: 'integer' }, total: { type: 'integer' } } }),
    results: nullable('object', { properties: { passed: { type: 'integer' }, failed: { type: 'integer' }, skipped: { type: 'integer' } } }),
    reason: nullable('string'),
    message: nullable('string'),
    createdAt: time,
    startTime: time,
    completionTime: time,
  }),
  Session: {
    allOf: [
      ref('SessionSummary'),
      obj({
        labels,
        spec: obj({
          pool: str,
          timeoutSeconds: { type: 'integer' },
          apps: list(obj({ packageName: str, apkURL: str })),
          runner: nullable('object', {
            properties: {
              image: str,
              command: list(str),
              args: list(str),
              env: list({ oneOf: [obj({ name: str, value: str }), obj({ name: str, hidden: { const: true } })] }),
            },
          }),
          cancelRequested: { type: 'boolean' },
        }),
        podName: nullable('string'),
        assignTime: time,
        artifacts: list(obj({ name: str, kind: str, url: str, sizeBytes: nullable('integer') })),
      }),
    ],
  },
  InsightFigures: {
    type: 'object',
    required: ['sessions', 'passRate', 'queueWaitSeconds', 'runSeconds', 'utilisation'],
    properties: {
      sessions: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Started, finished, waiting, running and finished by final phase.' },
      passRate: nullable('number', { description: 'Succeeded ÷ finished.' }),
      testsPassRate: nullable('number', { description: 'Tests passed ÷ tests run.' }),
      queueWaitSeconds: obj({ p50: nullable('number'), p95: nullable('number'), max: nullable('number') }),
      runSeconds: obj({ p50: nullable('number'), p95: nullable('number') }),
      utilisation: nullable('number', { description: 'Busy device-seconds ÷ available device-seconds.' }),
      peakBusy: { type: 'integer' },
      bootSeconds: obj({ p50: nullable('number'), p95: nullable('number') }),
      unhealthyShare: nullable('number'),
      topFailureReasons: list(obj({ reason: str, count: { type: 'integer' }, sessions: list({ type: 'object' }) }, ['reason', 'count'])),
    },
  },
  Insights: obj({
    window: { enum: ['1h', '24h', '7d'] },
    from: time,
    to: time,
    coverage: obj({ oldestSession: time, complete: { type: 'boolean' } }),
    farm: ref('InsightFigures'),
    templates: list({ type: 'object', required: ['template'], properties: { template: str } }),
    pools: list({
      allOf: [
        ref('InsightFigures'),
        obj(
          {
            namespace: str,
            pool: str,
            bottleneck: { oneOf: [{ type: 'null' }, { type: 'object', description: 'The verdict and its evidence when the pool is a bottleneck.' }] },
            suspectDevices: list({ type: 'object', required: ['device'], properties: { device: str } }),
          },
          ['namespace', 'pool', 'bottleneck', 'suspectDevices'],
        ),
      ],
    }),
  }),
  LeaseRequest: {
    type: 'object',
    required: ['holder', 'reason'],
    properties: { minutes: { enum: [15, 30, 60, 120, 240, 480], description: 'How long, in minutes (30 when left out).' }, holder: { type: 'string', maxLength: 63 }, reason: { type: 'string', maxLength: 256 } },
  },
  SessionRequest: {
    type: 'object',
    required: ['namespace', 'pool'],
    additionalProperties: false,
    properties: {
      namespace: str,
      pool: { type: 'string', description: 'A DevicePool in the namespace.' },
      name: { type: 'string', description: 'Leave out to have one made up.' },
      deviceName: { type: 'string', description: 'Only this device of the pool may take the session (a reserved device).' },
      timeoutSeconds: { type: 'integer', minimum: 60, maximum: 86400 },
      apps: list(obj({ packageName: str, apkURL: { type: 'string', pattern: '^https://' } })),
      runner: { type: 'object', required: ['image'], properties: { image: str, command: list(str), args: list(str), env: list(obj({ name: str, value: str }, ['name'])) } },
      labels,
    },
  },
};

const errorResponse = (codes: string[], description: string) => ({ description: `${description} (${codes.map((c) => `\`${c}\``).join(', ')})`, content: { 'application/json': { schema: ref('Error') } } });
const json = (schema: Schema, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const path = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string', maxLength: name === 'namespace' ? 63 : 253 } });
const query = (name: string, description: string, schema: Schema = str) => ({ name, in: 'query', required: false, description, schema });
const NS = path('namespace', 'The namespace.');
const SESSION = path('name', 'The TestSession.');
const POOL = path('name', 'The DevicePool.');

/** Errors any request can meet: not read yet, the cluster refused the dashboard, limits. */
const COMMON = {
  '400': errorResponse(['DF_ERR_BAD_REQUEST'], 'A bad parameter; `fields` names it'),
  '403': errorResponse(['DF_ERR_KUBE_FORBIDDEN'], "The dashboard's RBAC lacks a permission; the message names verb, resource and namespace"),
  '414': errorResponse(['DF_ERR_NAME_TOO_LONG'], 'A name in the path longer than Kubernetes allows'),
  '429': errorResponse(['DF_ERR_RATE_LIMITED'], 'Too many requests from one address; Retry-After says when'),
  '500': errorResponse(['DF_ERR_INTERNAL'], 'An internal error; the details are in the log'),
  '503': errorResponse(['DF_ERR_NOT_SYNCED', 'DF_ERR_KUBE_UNAVAILABLE', 'DF_ERR_KUBE_INTERNAL'], 'Not read the cluster yet, or the cluster is unreachable; retry'),
};
/** Errors of a write besides those. */
const WRITE = {
  '403': errorResponse(['DF_ERR_KUBE_FORBIDDEN', 'DF_ERR_CROSS_SITE', 'DF_ERR_READ_ONLY'], 'Refused: RBAC, a cross-site browser write, or a read-only dashboard'),
  '409': errorResponse(['DF_ERR_SESSION_FINISHED', 'DF_ERR_SESSION_NOT_FINISHED', 'DF_ERR_ALREADY_EXISTS', 'DF_ERR_KUBE_CONFLICT'], 'The session is not in a state for this'),
  '502': errorResponse(['DF_ERR_KUBE_UNAUTHORIZED'], "The Kubernetes API refused the dashboard's own credentials"),
};
const notFound = { '404': errorResponse(['DF_ERR_NOT_FOUND'], 'No such object') };
const sessionLocation = { Location: { description: 'The session’s JSON API URL.', schema: str } };

/** Both lease routes take the same request and answer the same way. */
const LEASE = {
  requestBody: { required: true, content: { 'application/json': { schema: ref('LeaseRequest') } } },
  responses: { '201': { ...json(ref('Session'), 'Leased'), headers: sessionLocation }, '200': json(ref('Session'), 'Leased before, by a request with the same Idempotency-Key'), ...notFound, '422': errorResponse(['DF_ERR_INVALID'], 'A bad duration, holder or reason'), ...COMMON, ...WRITE },
};

const paths = {
  '/api/v1/templates': {
    get: { summary: 'DeviceTemplates', parameters: [query('namespace', 'Only this namespace.')], responses: { '200': json(obj({ items: list(ref('Template')) })), ...COMMON } },
  },
  '/api/v1/pools': {
    get: { summary: 'DevicePools with their device counts', parameters: [query('namespace', 'Only this namespace.')], responses: { '200': json(obj({ items: list(ref('Pool')) })), ...COMMON } },
  },
  '/api/v1/pools/{namespace}/{name}': {
    get: { summary: 'One DevicePool with its devices', parameters: [NS, POOL], responses: { '200': json({ allOf: [ref('Pool'), obj({ deviceList: list(ref('Device')) })] }), ...notFound, ...COMMON } },
  },
  '/api/v1/pools/{namespace}/{name}/devices': {
    get: {
      summary: "A pool's devices, by name",
      parameters: [NS, POOL, query('state', `Only these states, comma-separated: ${DEVICE_STATES.join(', ')}.`)],
      responses: { '200': json(obj({ namespace: str, pool: str, items: list(ref('Device')) })), ...notFound, ...COMMON },
    },
  },
  '/api/v1/pools/{namespace}/{name}/devices/{device}': {
    get: {
      summary: "One device with its last 24 hours: sessions that ended on it, its failure rate against its pool's, its last boot, and the Unhealthy episodes this dashboard saw since it started",
      parameters: [NS, POOL, path('device', 'The device.')],
      responses: { '200': json(ref('DeviceDetail')), ...notFound, ...COMMON },
    },
  },
  '/api/v1/sessions': {
    get: {
      summary: 'TestSessions, newest first, a page at a time',
      parameters: [
        query('namespace', 'Only this namespace.'),
        query('pool', 'Only sessions of this DevicePool.'),
        query('phase', `Only these phases (repeat, or comma-separated): ${SESSION_PHASES.join(', ')}.`),
        query('labelSelector', 'A Kubernetes label selector (kubectl syntax).'),
        query('q', 'Part of the name.'),
        query('limit', `Sessions per page, 1 to ${MAX_LIMIT} (50 when left out).`, { type: 'integer', minimum: 1, maximum: MAX_LIMIT }),
        query('continue', 'The `continue` of the previous page.'),
      ],
      responses: { '200': json(obj({ items: list(ref('SessionSummary')), continue: nullable('string') })), ...COMMON },
    },
    post: {
      summary: 'Start a TestSession',
      parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, description: '16 to 32 lowercase letters and digits: a retried request finds the session the first one created.', schema: str }],
      requestBody: { required: true, content: { 'application/json': { schema: ref('SessionRequest') } } },
      responses: {
        '201': { ...json(ref('Session'), 'Created'), headers: sessionLocation },
        '200': { ...json(ref('Session'), 'Created before, by a request with the same Idempotency-Key'), headers: sessionLocation },
        '413': errorResponse(['DF_ERR_TOO_LARGE'], 'The body is over 64 KB'),
        '415': errorResponse(['DF_ERR_UNSUPPORTED_MEDIA_TYPE'], 'The body is not JSON'),
        '422': errorResponse(['DF_ERR_INVALID', 'DF_ERR_KUBE_INVALID'], 'The request breaks a rule; `fields` lists each field and why'),
        ...COMMON,
        ...WRITE,
      },
    },
  },
  '/api/v1/sessions/{namespace}/{name}': {
    get: { summary: 'One TestSession in full', parameters: [NS, SESSION], responses: { '200': json(ref('Session')), ...notFound, ...COMMON } },
    delete: {
      summary: 'Delete an ended TestSession',
      parameters: [NS, SESSION],
      responses: { '202': json(obj({ status: { const: 'deleting' }, namespace: str, name: str }), 'Deleting'), ...notFound, ...COMMON, ...WRITE },
    },
  },
  '/api/v1/sessions/{namespace}/{name}/cancel': {
    post: { summary: 'Stop a TestSession (sets spec.cancelRequested)', parameters: [NS, SESSION], responses: { '200': json(ref('Session')), ...notFound, ...COMMON, ...WRITE } },
  },
  '/api/v1/sessions/{namespace}/{name}/retry': {
    post: { summary: 'Start an ended TestSession again, as a new one', parameters: [NS, SESSION], responses: { '201': { ...json(ref('Session'), 'Created'), headers: sessionLocation }, ...notFound, ...COMMON, ...WRITE } },
  },
  '/api/v1/sessions/{namespace}/{name}/logs': {
    get: {
      summary: "The runner pod's log, as plain text",
      parameters: [
        NS,
        SESSION,
        query('follow', 'true: keep the response open and stream new lines.', { type: 'boolean' }),
        query('tailLines', 'Only the last lines.', { type: 'integer', minimum: 0 }),
        query('container', 'A container of the runner pod other than the first.'),
      ],
      responses: {
        '200': { description: 'The log', content: { 'text/plain': { schema: str } } },
        '404': errorResponse(['DF_ERR_NOT_FOUND', 'DF_ERR_NO_RUNNER_POD', 'DF_ERR_KUBE_NOT_FOUND'], 'No such session, or it ended without a runner pod'),
        '409': errorResponse(['DF_ERR_NO_RUNNER_POD'], 'No runner pod yet'),
        ...COMMON,
        '503': errorResponse(['DF_ERR_NOT_SYNCED', 'DF_ERR_LOG_FOLLOWS_FULL', 'DF_ERR_KUBE_UNAVAILABLE'], 'Not read yet, too many logs being read, or the cluster is unreachable; Retry-After'),
      },
    },
  },
  '/api/v1/events': {
    get: {
      summary: 'Every change as a Server-Sent Event (pool, device, session), resumable with Last-Event-ID',
      parameters: [query('namespace', 'Only this namespace.'), query('pool', 'Only this DevicePool and its sessions.'), { name: 'Last-Event-ID', in: 'header', required: false, description: 'Resume after this event: the missed events, or a `reset` event when they are gone.', schema: str }],
      responses: {
        '200': { description: 'An endless text/event-stream', content: { 'text/event-stream': { schema: str } } },
        ...COMMON,
        '429': errorResponse(['DF_ERR_TOO_MANY_STREAMS', 'DF_ERR_RATE_LIMITED'], 'This address has its most live streams open; Retry-After'),
        '503': errorResponse(['DF_ERR_LIVE_FULL', 'DF_ERR_KUBE_UNAVAILABLE'], 'The dashboard serves its most live streams; Retry-After'),
      },
    },
  },
  '/api/v1/pools/{namespace}/{name}/scale': {
    post: {
      summary: "Set a pool's spec.replicas (0…500); a scale that would take busy devices needs confirm",
      parameters: [NS, POOL],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['replicas'], properties: { replicas: { type: 'integer', minimum: 0, maximum: 500 }, confirm: { type: 'boolean' }, resourceVersion: { type: 'string', description: 'Only onto this version of the pool (409 otherwise).' } } } } } },
      responses: {
        '200': json(obj({ namespace: str, name: str, previous: { type: 'integer' }, replicas: { type: 'integer' }, changed: { type: 'boolean' }, resourceVersion: str })),
        ...notFound,
        '422': errorResponse(['DF_ERR_INVALID'], 'replicas out of range'),
        ...COMMON,
        ...WRITE,
        '409': errorResponse(['DF_ERR_CONFIRM_REQUIRED', 'DF_ERR_KUBE_CONFLICT'], 'Busy devices would go (the error lists their `sessions`: send confirm), or the pool changed'),
      },
    },
  },
  '/api/v1/pools/{namespace}/{name}/devices/{device}/restart': {
    post: {
      summary: "Restart a device: its pod is deleted and the pool's StatefulSet makes it again",
      parameters: [NS, POOL, path('device', 'The device.')],
      requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { session: { type: 'string', description: 'The session it would end, as confirmed.' }, confirm: { type: 'boolean' } } } } } },
      responses: {
        '202': json({ type: 'object', required: ['status'], properties: { status: { const: 'restarting' } } }, 'Restarting'),
        '404': errorResponse(['DF_ERR_NOT_FOUND', 'DF_ERR_NO_DEVICE_POD'], 'No such device, or it has no pod'),
        ...COMMON,
        ...WRITE,
        '409': errorResponse(['DF_ERR_CONFIRM_REQUIRED', 'DF_ERR_KUBE_CONFLICT'], 'It runs a session (confirm it), or it moved on to another'),
      },
    },
  },
  '/api/v1/pools/{namespace}/{name}/devices/{device}/lease': {
    post: {
      summary: 'Reserve this device: a TestSession without runner and with spec.deviceName, held until Release (cancel) or its time is up',
      parameters: [NS, POOL, path('device', 'The device.')],
      ...LEASE,
    },
  },
  '/api/v1/pools/{namespace}/{name}/lease': {
    post: {
      summary: 'Reserve any idle device of the pool (a TestSession without runner)',
      parameters: [NS, POOL],
      ...LEASE,
    },
  },
  '/api/v1/sessions/{namespace}/{name}/extend': {
    post: {
      summary: 'Extend a lease by 30 minutes',
      parameters: [NS, SESSION],
      responses: { '200': json(ref('Session')), ...notFound, ...COMMON, ...WRITE, '409': errorResponse(['DF_ERR_NOT_A_LEASE', 'DF_ERR_LEASE_AT_MAXIMUM', 'DF_ERR_SESSION_FINISHED', 'DF_ERR_KUBE_CONFLICT'], 'Not a lease, at its longest already, or ended') },
    },
  },
  '/api/v1/sessions:batch': {
    post: {
      summary: 'Stop, Retry or Delete many sessions, by name or all a filter matches (at most 500); each reported on its own',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['action'],
              properties: {
                action: { enum: ['cancel', 'retry', 'delete'] },
                sessions: list(obj({ namespace: str, name: str })),
                filter: { type: 'object', properties: { namespace: str, pool: str, phase: { oneOf: [str, list(str)] }, labelSelector: str, q: str } },
              },
            },
          },
        },
      },
      responses: {
        '200': json(obj({ action: { enum: ['cancel', 'retry', 'delete'] }, total: { type: 'integer' }, done: { type: 'integer' }, refused: { type: 'integer' }, results: list({ type: 'object', required: ['namespace', 'name', 'ok', 'status'], properties: { namespace: str, name: str, ok: { type: 'boolean' }, status: { type: 'integer' }, error: obj({ code: str, message: str }), created: str } }) })),
        '422': errorResponse(['DF_ERR_INVALID'], 'A bad action, both sessions and filter, or too many'),
        ...COMMON,
        ...WRITE,
      },
    },
  },
  '/api/v1/insights': {
    get: {
      summary: 'Farm insights of a window: sessions by phase, pass rate, queue wait, run time, utilisation, bottlenecks and suspect devices, per pool and for the farm',
      parameters: [
        query('window', 'The window: 1h, 24h (when left out) or 7d.', { enum: ['1h', '24h', '7d'] }),
        query('namespace', 'Only this namespace.'),
        query('pool', 'Only this DevicePool.'),
        query('template', 'Only pools of this DeviceTemplate.'),
      ],
      responses: { '200': json(ref('Insights')), ...COMMON },
    },
  },
  '/api/v1/openapi.json': {
    get: { summary: 'This document', responses: { '200': json({ type: 'object' }) } },
  },
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'DroidFarm Dashboard API',
    version: 'v1',
    description: "The farm's DevicePools, devices and TestSessions as JSON, for scripts and CI. Field names are a contract: fields are added, never renamed or removed. Errors are `{ error: { code, message, fields? } }` with a stable `DF_ERR_*` code.",
  },
  paths,
  components: { schemas },
} as const;

export default async function openApiRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/v1/openapi.json', async () => OPENAPI);
}
