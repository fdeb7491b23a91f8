// A TestSession's spec checked by the CRD's own schema (src/farm/testsession-schema.ts is
// generated from deploy/crds by `npm run crd-schemas`), compiled once with Ajv. The CRD is
// the one source of the rules; this file only says which field a refusal belongs to, in the
// request's terms (apps[2].apkURL), and words it for a person.
import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';
import type { FieldCause } from '../kube/errors.js';
import { TESTSESSION_SPEC_SCHEMA } from './testsession-schema.js';

/** Unknown fields are refused, as the apiserver does with fieldValidation=Strict. */
function closed(schema: SchemaObject): SchemaObject {
  const out: SchemaObject = { ...schema };
  if (out.properties && !out['x-kubernetes-preserve-unknown-fields']) {
    out.properties = Object.fromEntries(Object.entries(out.properties as Record<string, SchemaObject>).map(([k, v]) => [k, closed(v)]));
    out.additionalProperties = false;
  }
  if (out.items) out.items = closed(out.items as SchemaObject);
  return out;
}

const ajv = new Ajv({ allErrors: true, verbose: true });
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addKeyword({ keyword: 'x-kubernetes-list-type', schemaType: 'string' });
// A list of type "map": each entry's keys are unique, as the apiserver checks.
ajv.addKeyword({
  keyword: 'x-kubernetes-list-map-keys',
  type: 'array',
  schemaType: 'array',
  errors: true,
  validate: function unique(keys: string[], list: Array<Record<string, unknown>>, _schema?: unknown, ctx?: { instancePath: string }) {
    const seen = new Set<string>();
    const errors: Array<Partial<ErrorObject>> = [];
    list.forEach((entry, i) => {
      if (typeof entry !== 'object' || entry === null) return;
      const id = JSON.stringify(keys.map((k) => entry[k]));
      if (seen.has(id)) errors.push({ instancePath: `${ctx?.instancePath ?? ''}/${i}/${keys[0]}`, keyword: 'x-kubernetes-list-map-keys', params: { value: entry[keys[0]!] }, message: 'duplicate' });
      seen.add(id);
    });
    (unique as unknown as { errors: typeof errors }).errors = errors;
    return errors.length === 0;
  },
});
const validate = ajv.compile(closed(TESTSESSION_SPEC_SCHEMA));

/** The spec's refusals, one per field, in the request's terms; [] when the CRD accepts it. */
export function checkSessionSpec(spec: unknown): FieldCause[] {
  if (validate(spec)) return [];
  const causes: FieldCause[] = [];
  for (const e of validate.errors ?? []) {
    const cause = explain(e);
    if (!causes.some((c) => c.field === cause.field)) causes.push(cause);
  }
  return causes;
}

/** /apps/0/apkURL → apps[0].apkURL; /poolRef/name → pool. */
function requestField(path: string[]): string {
  if (path[0] === 'poolRef') return 'pool';
  let out = '';
  for (const part of path) out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${clip(part)}` : clip(part);
  return out;
}

const PATTERN_WORDS: Readonly<Record<string, string>> = {
  poolRef: 'must be a DevicePool name',
  deviceName: 'must be the name of a device of the pool',
  packageName: 'must be an Android package name such as com.example.shop',
  apkURL: 'must be an https:// URL',
  image: 'must be a container image reference without spaces',
  name: 'must be letters, digits, -, . and _, not starting with a digit',
};

function explain(e: ErrorObject): FieldCause {
  const path = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const at = (extra?: string) => requestField(extra === undefined ? path : [...path, extra]);
  const schema = (e.parentSchema ?? {}) as SchemaObject;
  const last = path[path.length - 1] ?? '';
  if (path[0] === 'timeoutSeconds' && ['type', 'minimum', 'maximum', 'format'].includes(e.keyword)) {
    const { minimum: min, maximum: max } = schema as { minimum: number; maximum: number };
    return { field: 'timeoutSeconds', message: e.keyword === 'type' ? 'must be a whole number of seconds' : `must be from ${min} to ${max} seconds (${min / 60} minute to ${max / 3600} hours)` };
  }
  switch (e.keyword) {
    case 'required':
      return { field: at(String(e.params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { field: at(String(e.params.additionalProperty)), message: `unknown field (allowed: ${Object.keys((schema.properties as object) ?? {}).join(', ')})` };
    case 'type':
      return { field: at(), message: `must be ${{ array: 'a list', object: 'an object', integer: 'a whole number', string: 'a string', boolean: 'true or false' }[String(e.params.type)] ?? `of type ${String(e.params.type)}`}` };
    case 'minLength':
      return { field: at(), message: e.params.limit === 1 ? 'is required' : `must be at least ${e.params.limit} characters` };
    case 'maxLength':
      return { field: at(), message: `must be at most ${e.params.limit} characters` };
    case 'maxItems':
      return { field: at(), message: `at most ${e.params.limit} entries` };
    case 'pattern':
      return { field: at(), message: PATTERN_WORDS[path[0] === 'poolRef' ? 'poolRef' : last] ?? `must match ${String(e.params.pattern)}` };
    case 'x-kubernetes-list-map-keys':
      return { field: at(), message: `${String(e.params.value)} is ${path[0] === 'runner' ? 'set' : 'listed'} twice` };
    default:
      return { field: at(), message: e.message ?? 'is not valid' };
  }
}

/** Keeps hostile keys short in messages. */
export function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}…` : s;
}
