// The JSON API's shapes (src/farm/json.ts) as JSON Schema: the /api/v1 routes' response
// schemas (Fastify serialises with them, and drops what they do not list, so every field
// json.ts writes is here) and the components of /api/v1/openapi.json. A map whose keys are
// data (labels, counts by phase) says so with additionalProperties.
import { DEVICE_STATES, SESSION_PHASES } from './types.js';
import { WINDOW_NAMES } from './insights/window.js';

type Schema = Record<string, unknown>;

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const nullable = (type: string, extra: Schema = {}): Schema => ({ type: [type, 'null'], ...extra });
const time: Schema = nullable('string', { format: 'date-time' });
const obj = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({ type: 'object', properties, required });
const list = (items: Schema): Schema => ({ type: 'array', items });
const labels: Schema = { type: 'object', additionalProperties: str };
const app = obj({ packageName: str, apkURL: str });

export const Template = obj({
  namespace: str,
  name: str,
  androidVersion: str,
  avdProfile: str,
  emulationBackend: str,
  resources: obj({ cpu: str, memory: str }),
  apps: list(app),
  createdAt: time,
});

export const Pool = obj({
  namespace: str,
  name: str,
  template: str,
  replicas: int,
  devices: { type: 'integer', description: 'Devices the operator reports.' },
  counts: obj(Object.fromEntries(DEVICE_STATES.map((s) => [s.toLowerCase(), { type: 'integer', minimum: 0 }]))),
  idleCapacity: { type: 'number' },
  reconciling: { type: 'boolean' },
  labels,
  conditions: list(obj({ type: str, status: { enum: ['True', 'False', 'Unknown'] }, reason: str, message: str, lastTransitionTime: time })),
  createdAt: time,
});

export const Device = obj({
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
});

/** One device with its pool and its last 24 hours (GET /api/v1/pools/:namespace/:name/devices/:device). */
export const DeviceDetail = {
  allOf: [
    Device,
    obj({
      namespace: str,
      pool: str,
      history: obj({
        window: { const: '24h' },
        sessions: int,
        byPhase: obj({ Succeeded: int, Failed: int, Cancelled: int, TimedOut: int }),
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
};

const summary = {
  namespace: str,
  name: str,
  pool: str,
  phase: { enum: [...SESSION_PHASES] },
  device: nullable('string'),
  progress: nullable('object', { properties: { completed: int, total: int } }),
  results: nullable('object', { properties: { passed: int, failed: int, skipped: int } }),
  reason: nullable('string'),
  message: nullable('string'),
  createdAt: time,
  startTime: time,
  completionTime: time,
};

export const SessionSummary = obj(summary);

export const Session = obj({
  ...summary,
  labels,
  spec: obj({
    pool: str,
    deviceName: nullable('string', { description: 'Only this device of the pool may take the session (a lease or reservation).' }),
    timeoutSeconds: int,
    apps: list(app),
    runner: nullable('object', {
      required: ['image', 'command', 'args', 'env'],
      properties: {
        image: str,
        command: list(str),
        args: list(str),
        env: list({ type: 'object', required: ['name'], properties: { name: str, value: str, hidden: { const: true } }, description: 'value only with --show-runner-env; otherwise hidden: true instead.' }),
      },
    }),
    cancelRequested: { type: 'boolean' },
  }),
  podName: nullable('string'),
  assignTime: time,
  artifacts: list(obj({ name: str, kind: str, url: str, sizeBytes: nullable('integer') })),
  lease: nullable('object', { required: ['holder', 'reason', 'endsAt'], properties: { holder: nullable('string'), reason: nullable('string'), endsAt: time }, description: 'A device held for manual use.' }),
});

export const SessionList = obj({ items: list(SessionSummary), continue: nullable('string', { description: 'The next page: pass it as ?continue=.' }) });

const num = nullable('number');
const percentiles = (...names: string[]) => obj(Object.fromEntries(names.map((n) => [n, num])));
const sessionRef = obj({ namespace: str, name: str, finishedAt: time, href: str });
/** Counts by final phase and by stage: keys are data (phases), so every key is kept. */
const counts = (description: string): Schema => ({ type: 'object', additionalProperties: { type: 'integer' }, description });

/** What the farm, each template and each pool share (src/farm/insights/report.ts). */
const core = {
  sessions: counts('Created, started, finished, waiting, running, and finished by final phase.'),
  passRate: nullable('number', { description: 'Succeeded ÷ finished.' }),
  queueWaitSeconds: percentiles('p50', 'p95', 'max'),
  runSeconds: percentiles('p50', 'p95'),
  utilisation: nullable('number', { description: 'Busy device-seconds ÷ available device-seconds.' }),
};
const figures = {
  ...core,
  testsPassRate: nullable('number', { description: 'Tests passed ÷ tests run.' }),
  peakBusy: int,
  devices: int,
  bootSeconds: percentiles('p50', 'p95'),
  unhealthyShare: num,
  topFailureReasons: list(obj({ reason: str, count: int, sessions: list(sessionRef) })),
  series: list(obj({ from: time, to: time, sessions: counts('Finished by final phase.'), p95WaitSeconds: num, utilisation: num, peakBusy: int })),
};

/** The farm's figures, with how many pools are bottlenecks and how many devices suspect. */
export const InsightFigures = obj({ ...figures, bottlenecks: int, suspectDevices: int });

const verdict = obj({
  status: { enum: ['bottleneck', 'healthy'] },
  summary: str,
  evidence: {
    type: 'object',
    additionalProperties: { type: ['number', 'null'] },
    description: 'waiting, idle, devices, oldestWaitSeconds, p95WaitSeconds, arrivalsPerHour, meanRunSeconds, modelP95WaitSeconds (-1: the queue grows without bound), devicesNeeded, sloSeconds.',
  },
});

export const PoolInsights = obj({
  ...figures,
  namespace: str,
  pool: str,
  template: str,
  bottleneck: { ...verdict, type: ['object', 'null'], description: 'The verdict and its evidence when the pool is a bottleneck; null when healthy.' },
  suspectDevices: list(obj({ device: str, sessions: int, failed: int, failureRate: { type: 'number' }, poolFailureRate: { type: 'number' }, pValue: { type: 'number' }, recentFailures: list(sessionRef) })),
  likelyApp: list(obj({ suite: str, sessions: int, failed: int, failureRate: { type: 'number' }, devices: int })),
});

export const Insights = obj({
  window: { enum: [...WINDOW_NAMES] },
  from: time,
  to: time,
  coverage: obj({ oldestSession: time, complete: { type: 'boolean' } }),
  farm: InsightFigures,
  templates: list(obj({ template: str, pools: int, ...core })),
  pools: list(PoolInsights),
});

/** The named shapes, as /api/v1/openapi.json lists them under components. */
export const API_SHAPES: Readonly<Record<string, Schema>> = { Template, Pool, Device, DeviceDetail, SessionSummary, Session, SessionList, InsightFigures, PoolInsights, Insights };
