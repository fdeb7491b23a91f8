// What a person or a script may ask for when creating a TestSession, checked against the
// same rules as the CRD schema (deploy/crds/testsessions.droidfarm.io.yaml) before the
// apiserver is asked at all, so mistakes come back next to the field that holds them.
// Unknown fields are refused rather than dropped: a typo must not silently vanish.
import type { FieldCause } from '../kube/errors.js';
import { isLabelKey, isLabelValue } from './labels.js';

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

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PACKAGE = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const NO_SPACE = /^\S+$/;

const TOP_FIELDS = new Set(['namespace', 'name', 'pool', 'deviceName', 'timeoutSeconds', 'apps', 'runner', 'labels']);
const APP_FIELDS = new Set(['packageName', 'apkURL']);
const RUNNER_FIELDS = new Set(['image', 'command', 'args', 'env']);
const ENV_FIELDS = new Set(['name', 'value']);

export const LIMITS = { apps: 20, command: 64, args: 256, env: 64, labels: 64, item: 4096, envValue: 32768 } as const;

/** Checks a request body (parsed JSON, or the form turned into the same shape). */
export function checkSessionRequest(body: unknown): Checked {
  const errors: FieldCause[] = [];
  const fail = (field: string, message: string) => {
    errors.push({ field, message });
  };
  if (!isObject(body)) return { ok: false, errors: [{ field: '', message: 'the body must be a JSON object' }] };
  unknownFields(body, TOP_FIELDS, '', fail);

  const namespace = str(body.namespace, 'namespace', fail, { required: true, max: 63 });
  if (namespace && !DNS_LABEL.test(namespace)) fail('namespace', 'must be a namespace name: lowercase letters, digits and -');
  const name = str(body.name, 'name', fail, { max: 253 });
  if (name && !DNS_SUBDOMAIN.test(name)) fail('name', 'must be lowercase letters, digits, - and . (start and end with a letter or digit)');
  const pool = str(body.pool, 'pool', fail, { required: true, max: 253 });
  if (pool && !DNS_SUBDOMAIN.test(pool)) fail('pool', 'must be a DevicePool name');
  const deviceName = str(body.deviceName, 'deviceName', fail, { max: 253 });
  if (deviceName && !DNS_SUBDOMAIN.test(deviceName)) fail('deviceName', 'must be the name of a device of the pool');

  let timeoutSeconds: number | undefined;
  if (body.timeoutSeconds !== undefined && body.timeoutSeconds !== null && body.timeoutSeconds !== '') {
    const t = body.timeoutSeconds;
    if (typeof t !== 'number' || !Number.isInteger(t)) fail('timeoutSeconds', 'must be a whole number of seconds');
    else if (t < 60 || t > 86400) fail('timeoutSeconds', 'must be from 60 to 86400 seconds (1 minute to 24 hours)');
    else timeoutSeconds = t;
  }

  const apps: SessionRequest['apps'] = [];
  const appsRaw = list(body.apps, 'apps', LIMITS.apps, fail);
  appsRaw.forEach((a, i) => {
    const at = `apps[${i}]`;
    if (!isObject(a)) return fail(at, 'must be an object with packageName and apkURL');
    unknownFields(a, APP_FIELDS, at, fail);
    const packageName = str(a.packageName, `${at}.packageName`, fail, { required: true, max: 255 });
    if (packageName && !PACKAGE.test(packageName)) fail(`${at}.packageName`, 'must be an Android package name such as com.example.shop');
    const apkURL = str(a.apkURL, `${at}.apkURL`, fail, { required: true, max: 2048 });
    if (apkURL && !isHttpsURL(apkURL)) fail(`${at}.apkURL`, 'must be an https:// URL');
    if (packageName && apps.some((x) => x.packageName === packageName)) fail(`${at}.packageName`, `${packageName} is listed twice`);
    apps.push({ packageName, apkURL });
  });

  let runner: SessionRequest['runner'];
  if (body.runner !== undefined && body.runner !== null) {
    const r = body.runner;
    if (!isObject(r)) fail('runner', 'must be an object with image, command, args and env');
    else {
      unknownFields(r, RUNNER_FIELDS, 'runner', fail);
      const image = str(r.image, 'runner.image', fail, { required: true, max: 1024 });
      if (image && !NO_SPACE.test(image)) fail('runner.image', 'must be a container image reference without spaces');
      const strings = (v: unknown, field: string, max: number) =>
        list(v, field, max, fail).map((s, i) => str(s, `${field}[${i}]`, fail, { required: false, max: LIMITS.item, allowEmpty: true }));
      const command = strings(r.command, 'runner.command', LIMITS.command);
      const args = strings(r.args, 'runner.args', LIMITS.args);
      const env: Array<{ name: string; value: string }> = [];
      list(r.env, 'runner.env', LIMITS.env, fail).forEach((e, i) => {
        const at = `runner.env[${i}]`;
        if (!isObject(e)) return fail(at, 'must be an object with name and value');
        unknownFields(e, ENV_FIELDS, at, fail);
        const n = str(e.name, `${at}.name`, fail, { required: true, max: 256 });
        if (n && !ENV_NAME.test(n)) fail(`${at}.name`, 'must be letters, digits, -, . and _, not starting with a digit');
        if (n && env.some((x) => x.name === n)) fail(`${at}.name`, `${n} is set twice`);
        const value = str(e.value, `${at}.value`, fail, { max: LIMITS.envValue, allowEmpty: true });
        env.push({ name: n, value });
      });
      runner = { image, command, args, env };
    }
  }

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
  return { ok: true, request: { namespace, name, pool, deviceName, timeoutSeconds, apps, runner, labels } };
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

function unknownFields(o: Record<string, unknown>, known: Set<string>, at: string, fail: (f: string, m: string) => void): void {
  for (const k of Object.keys(o)) if (!known.has(k)) fail(at ? `${at}.${clip(k)}` : clip(k), `unknown field (allowed: ${[...known].join(', ')})`);
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

function list(v: unknown, field: string, max: number, fail: (f: string, m: string) => void): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    fail(field, 'must be a list');
    return [];
  }
  if (v.length > max) {
    fail(field, `at most ${max} entries`);
    return [];
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

/** Keeps hostile keys and values short in messages. */
function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}…` : s;
}
