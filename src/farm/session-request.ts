// What a person or a script may ask for when creating a TestSession. The spec is checked by
// the CRD's own schema (session-spec.ts) before the apiserver is asked at all, so mistakes
// come back next to the field that holds them; what the CRD does not cover (the namespace,
// the name, labels, URLs that must really be https) is checked here. Unknown fields are
// refused rather than dropped: a typo must not silently vanish.
import type { FieldCause } from '../kube/errors.js';
import { isDnsLabel, isDnsSubdomain } from '../kube/names.js';
import { isLabelKey, isLabelValue } from './labels.js';
import { checkSessionSpec, clip } from './session-spec.js';

export interface SessionRequest {
  namespace: string;
  /** Empty: the name is generated. */
  name: string;
  pool: string;
  /** Empty: any idle device of the pool; else only this one (a reserved device). */
  deviceName: string;
  timeoutSeconds: number | undefined;
  apps: Array<{ packageName: string; apkURL: string }>;
  runner: { image: string; command: string[]; args: string[]; env: Array<{ name: string; value: string }> } | undefined;
  labels: Record<string, string>;
}

export type Checked = { ok: true; request: SessionRequest } | { ok: false; errors: FieldCause[] };

const TOP_FIELDS = new Set(['namespace', 'name', 'pool', 'deviceName', 'timeoutSeconds', 'apps', 'runner', 'labels']);

export const LIMITS = { labels: 64 } as const;

/** Checks a request body (parsed JSON, or the form turned into the same shape). */
export function checkSessionRequest(body: unknown): Checked {
  const errors: FieldCause[] = [];
  const fail = (field: string, message: string) => {
    errors.push({ field, message });
  };
  if (!isObject(body)) return { ok: false, errors: [{ field: '', message: 'the body must be a JSON object' }] };
  for (const k of Object.keys(body)) if (!TOP_FIELDS.has(k)) fail(clip(k), `unknown field (allowed: ${[...TOP_FIELDS].join(', ')})`);

  const namespace = str(body.namespace, 'namespace', fail, { required: true, max: 63 });
  if (namespace && !isDnsLabel(namespace)) fail('namespace', 'must be a namespace name: lowercase letters, digits and -');
  const name = str(body.name, 'name', fail, { max: 253 });
  if (name && !isDnsSubdomain(name)) fail('name', 'must be lowercase letters, digits, - and . (start and end with a letter or digit)');

  // The spec as it would be sent; what is empty counts as not given, as on the form.
  const spec = withoutEmpty({ poolRef: { name: body.pool }, deviceName: body.deviceName, timeoutSeconds: body.timeoutSeconds, apps: body.apps, runner: body.runner }) as Spec;
  const specErrors = checkSessionSpec(spec);
  errors.push(...specErrors);
  // Stricter than the CRD's pattern: a URL a browser and a device can really fetch.
  if (specErrors.length === 0) spec.apps?.forEach((a, i) => !isHttpsURL(a.apkURL) && fail(`apps[${i}].apkURL`, 'must be an https:// URL'));

  const labels: Record<string, string> = {};
  if (body.labels !== undefined && body.labels !== null) {
    if (!isObject(body.labels)) fail('labels', 'must be an object of label keys to values');
    else {
      const entries = Object.entries(body.labels);
      if (entries.length > LIMITS.labels) fail('labels', `at most ${LIMITS.labels} labels`);
      for (const [k, v] of entries.slice(0, LIMITS.labels)) {
        if (!isLabelKey(k)) fail(`labels.${k}`, `"${clip(k)}" is not a valid label key ([prefix/]name: letters, digits, -, _ and ., at most 63 for the name)`);
        else if (typeof v !== 'string') fail(`labels.${k}`, 'must be a string');
        else if (!isLabelValue(v)) fail(`labels.${k}`, `"${clip(v)}" is not a valid label value (letters, digits, -, _ and ., at most 63)`);
        else labels[k] = v;
      }
    }
  }

  if (errors.length) return { ok: false, errors };
  const runner = spec.runner && { image: spec.runner.image, command: spec.runner.command ?? [], args: spec.runner.args ?? [], env: (spec.runner.env ?? []).map((e) => ({ name: e.name, value: e.value ?? '' })) };
  return { ok: true, request: { namespace, name, pool: spec.poolRef.name, deviceName: spec.deviceName ?? '', timeoutSeconds: spec.timeoutSeconds, apps: spec.apps ?? [], runner, labels } };
}

/** What the CRD's schema accepted (checkSessionSpec passed). */
interface Spec {
  poolRef: { name: string };
  deviceName?: string;
  timeoutSeconds?: number;
  apps?: Array<{ packageName: string; apkURL: string }>;
  runner?: { image: string; command?: string[]; args?: string[]; env?: Array<{ name: string; value?: string }> };
}

/** Object fields that are undefined, null or '' left out, at every depth (list items stay). */
function withoutEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (isObject(x) ? withoutEmpty(x) : x));
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined && x !== null && x !== '') out[k] = withoutEmpty(x);
  return out;
}

/** The TestSession object this request asks for. */
export function sessionObject(r: SessionRequest, extra: { name?: string; generateName?: string; annotations?: Record<string, string>; labels?: Record<string, string> } = {}) {
  const name = r.name || extra.name;
  return {
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'TestSession',
    metadata: {
      ...(name ? { name } : { generateName: extra.generateName ?? `${r.pool.slice(0, 57)}-` }),
      ...(Object.keys({ ...r.labels, ...extra.labels }).length ? { labels: { ...r.labels, ...extra.labels } } : {}),
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: {
      poolRef: { name: r.pool },
      ...(r.deviceName ? { deviceName: r.deviceName } : {}),
      ...(r.timeoutSeconds !== undefined ? { timeoutSeconds: r.timeoutSeconds } : {}),
      ...(r.apps.length ? { apps: r.apps } : {}),
      ...(r.runner
        ? {
            runner: {
              image: r.runner.image,
              ...(r.runner.command.length ? { command: r.runner.command } : {}),
              ...(r.runner.args.length ? { args: r.runner.args } : {}),
              ...(r.runner.env.length ? { env: r.runner.env } : {}),
            },
          }
        : {}),
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}


function str(v: unknown, field: string, fail: (f: string, m: string) => void, opts: { required?: boolean; max: number; allowEmpty?: boolean }): string {
  if (v === undefined || v === null || v === '') {
    if (opts.required) fail(field, 'is required');
    return '';
  }
  if (typeof v !== 'string') {
    fail(field, 'must be a string');
    return '';
  }
  if (v.length > opts.max) {
    fail(field, `must be at most ${opts.max} characters`);
    return '';
  }
  return v;
}


function isHttpsURL(s: string): boolean {
  if (!/^https:\/\/\S+$/.test(s)) return false;
  try {
    const u = new URL(s);
    return u.protocol === 'https:' && u.hostname !== '' && !u.username && !u.password;
  } catch {
    return false;
  }
}

