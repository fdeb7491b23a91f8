// The "new session" form: its fields as the person typed them, turned into the request that
// checkSessionRequest validates, and the validator's field paths mapped back onto the form.
// Multi-value fields are one entry per line, which is how people paste them.
import type { FieldCause } from '../../kube/errors.js';

export interface SessionForm {
  requestId: string;
  namespace: string;
  pool: string;
  deviceName: string;
  name: string;
  timeoutMinutes: string;
  apps: string;
  runnerImage: string;
  runnerCommand: string;
  runnerArgs: string;
  runnerEnv: string;
  labels: string;
}

export const FORM_FIELDS: ReadonlyArray<keyof SessionForm> = ['requestId', 'namespace', 'pool', 'deviceName', 'name', 'timeoutMinutes', 'apps', 'runnerImage', 'runnerCommand', 'runnerArgs', 'runnerEnv', 'labels'];

export function emptyForm(requestId: string, namespace = '', pool = ''): SessionForm {
  return { requestId, namespace, pool, deviceName: '', name: '', timeoutMinutes: '30', apps: '', runnerImage: '', runnerCommand: '', runnerArgs: '', runnerEnv: '', labels: '' };
}

/** The posted fields, each a string (a repeated field keeps its first value). */
export function readForm(body: unknown): SessionForm {
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const get = (k: string) => {
    const v = Array.isArray(o[k]) ? (o[k] as unknown[])[0] : o[k];
    return typeof v === 'string' ? v : '';
  };
  return Object.fromEntries(FORM_FIELDS.map((k) => [k, get(k)])) as unknown as SessionForm;
}

const lines = (s: string) => s.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

/** The request the form asks for, in the JSON API's shape. */
export function formToRequest(f: SessionForm): Record<string, unknown> {
  const minutes = f.timeoutMinutes.trim();
  const request: Record<string, unknown> = {
    namespace: f.namespace.trim(),
    pool: f.pool.trim(),
    ...(f.deviceName.trim() ? { deviceName: f.deviceName.trim() } : {}),
    ...(f.name.trim() ? { name: f.name.trim() } : {}),
    ...(minutes ? { timeoutSeconds: /^\d+$/.test(minutes) ? Number(minutes) * 60 : minutes } : {}),
    apps: lines(f.apps).map((l) => {
      const [packageName = '', apkURL = ''] = l.split(/\s+/, 2);
      return { packageName, apkURL };
    }),
    labels: Object.fromEntries(lines(f.labels).map((l) => splitPair(l))),
  };
  if (f.runnerImage.trim() || f.runnerCommand.trim() || f.runnerArgs.trim() || f.runnerEnv.trim()) {
    request.runner = {
      image: f.runnerImage.trim(),
      command: lines(f.runnerCommand),
      args: lines(f.runnerArgs),
      env: lines(f.runnerEnv).map((l) => {
        const [name, value] = splitPair(l);
        return { name, value };
      }),
    };
  }
  return request;
}

function splitPair(line: string): [string, string] {
  const eq = line.indexOf('=');
  return eq < 0 ? [line, ''] : [line.slice(0, eq).trim(), line.slice(eq + 1).trim()];
}

/** What each field is called on the form, for the error summary's links. */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  pool: 'Pool',
  namespace: 'Namespace',
  deviceName: 'Device',
  name: 'Name',
  timeoutMinutes: 'Timeout',
  apps: 'Apps to install',
  runnerImage: 'Runner image',
  runnerCommand: 'Runner command',
  runnerArgs: 'Runner arguments',
  runnerEnv: 'Runner environment',
  labels: 'Labels',
};

/** The element id of a form field: what the error summary links to. */
export const fieldId = (field: string): string => `field-${field}`;

export interface SummaryItem {
  /** '' for a problem that belongs to no one field. */
  href: string;
  label: string;
  message: string;
}

/** The error summary above the form: one entry per problem, linked to its field, in form order. */
export function errorSummary(errors: Record<string, string[]>): SummaryItem[] {
  const out: SummaryItem[] = [];
  for (const m of errors.form ?? []) out.push({ href: '', label: '', message: m });
  for (const [field, label] of Object.entries(FIELD_LABELS)) {
    for (const m of errors[field] ?? []) out.push({ href: `#${fieldId(field)}`, label, message: m });
  }
  return out;
}

/** Validator fields (apps[2].apkURL) onto form fields (apps), with the line that holds them. */
export function formErrors(errors: readonly FieldCause[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (field: string, message: string) => (out[field] ??= []).push(message);
  for (const e of errors) {
    const line = e.field.match(/\[(\d+)\]/);
    const at = line ? `line ${Number(line[1]) + 1}: ` : '';
    if (e.field.startsWith('apps')) add('apps', `${at}${e.field.split('.').pop() === 'apkURL' ? 'APK URL ' : e.field.endsWith('packageName') ? 'package ' : ''}${e.message}`);
    else if (e.field === 'timeoutSeconds') add('timeoutMinutes', e.message.replace('from 60 to 86400 seconds (1 minute to 24 hours)', 'from 1 to 1440 minutes'));
    else if (e.field.startsWith('runner.command')) add('runnerCommand', `${at}${e.message}`);
    else if (e.field.startsWith('runner.args')) add('runnerArgs', `${at}${e.message}`);
    else if (e.field.startsWith('runner.env')) add('runnerEnv', `${at}${e.message}`);
    else if (e.field.startsWith('runner')) add('runnerImage', e.message);
    else if (e.field.startsWith('labels')) add('labels', e.message);
    else if (['namespace', 'pool', 'deviceName', 'name'].includes(e.field)) add(e.field, e.message);
    else add('form', e.field ? `${e.field}: ${e.message}` : e.message);
  }
  return out;
}
