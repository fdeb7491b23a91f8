// Fastify's JSON schemas, in the dashboard's words. Every route declares its query string,
// path parameters, headers and body as JSON Schema; a refusal becomes the same coded error
// a hand check would raise: 400 DF_ERR_BAD_REQUEST for the URL and headers, 422
// DF_ERR_INVALID for a body, 414 DF_ERR_NAME_TOO_LONG for a path name longer than
// Kubernetes allows, each with the field and why. A schema says what to tell a person with
// the `x-df-error` annotation ({ cause } on a field, { message } on a body: what was not
// done); both are kept in /api/v1/openapi.json, where `x-` keys are extensions.
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';
import { AppError, MAX_NAME_LENGTH, nameTooLong } from './errors.js';
import { DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN } from '../kube/names.js';
import { GIVEN_TWICE, NOT_A_NAMESPACE, notAName } from './params.js';

export type JsonSchema = Record<string, unknown>;

/** What a schema says when a value breaks it. */
export interface DfError {
  /** On a field: why it is refused, after its name ("must be true or false"). */
  cause?: string;
  /** On a body: what was not done ("The pool was not scaled"). */
  message?: string;
}

export const DF_ERROR = 'x-df-error';

/** The schema with the words a refusal of it uses. */
export function says<S extends JsonSchema>(schema: S, error: DfError): S & { [DF_ERROR]: DfError } {
  return { ...schema, [DF_ERROR]: error };
}

/**
 * Fastify's schemaErrorFormatter: Ajv's errors (verbose, so each carries its schema) as one
 * AppError. One cause per field, in the order found; the message names the field when
 * there is one, and says what was not done for a body.
 */
export function formatSchemaError(errors: readonly Partial<ErrorObject>[], part: string): AppError {
  const fields: Array<{ field: string; message: string }> = [];
  let tooLong = false;
  let rootMessage: string | undefined;
  for (const e of errors) {
    const field = fieldOf(e, part);
    if (part === 'params' && e.keyword === 'maxLength') tooLong = true;
    const own = annotation(e.parentSchema);
    rootMessage ??= (e as WithRoot)[ROOT_MESSAGE] ?? (e.instancePath === '' ? own?.message : undefined);
    const cause = causeOf(e, own);
    if (!fields.some((f) => f.field === field)) fields.push({ field, message: cause });
  }
  if (tooLong) {
    return nameTooLong();
  }
  const one = fields.length === 1 ? fields[0]! : undefined;
  const sentence = one ? `${one.field || (part === 'body' ? 'the body' : 'the request')} ${one.message}.` : 'fix the fields listed.';
  if (part === 'body') {
    return new AppError(422, 'DF_ERR_INVALID', `${rootMessage ?? 'Nothing was done'}: ${sentence}`, fields);
  }
  return new AppError(400, 'DF_ERR_BAD_REQUEST', one ? sentence : `The request is not valid: ${sentence}`, fields);
}

const ROOT_MESSAGE = Symbol('what was not done');
type WithRoot = Partial<ErrorObject> & { [ROOT_MESSAGE]?: string };

/** A validator whose errors carry the body schema's own words, which Ajv reports only for the root. */
function withRootMessage(validate: ValidateFunction, message: string | undefined): ValidateFunction {
  if (!message) return validate;
  const wrapped = ((data: unknown, ctx?: Parameters<ValidateFunction>[1]) => {
    const ok = validate(data, ctx);
    wrapped.errors = ok ? null : (validate.errors ?? []).map((e) => ({ ...e, [ROOT_MESSAGE]: message }));
    return ok;
  }) as ValidateFunction;
  // Fastify passes the parent when the validator has one, so a coerced root can be replaced.
  return Object.assign(wrapped, { schema: validate.schema, schemaEnv: validate.schemaEnv });
}

/** apps[2].apkURL for /apps/2/apkURL; a missing or unknown property names itself. */
function fieldOf(e: Partial<ErrorObject>, part: string): string {
  const path = (e.instancePath ?? '').split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = e.params?.missingProperty ?? e.params?.additionalProperty;
  if (typeof extra === 'string') path.push(extra);
  let out = '';
  for (const p of path) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return part === 'headers' ? headerName(out) : out;
}

/** Headers are matched in lower case; say them as people write them (idempotency-key → Idempotency-Key). */
export const headerName = (name: string): string => name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());

function causeOf(e: Partial<ErrorObject>, own: DfError | undefined): string {
  if (e.keyword === 'required') return annotation((e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties?.[String(e.params?.missingProperty)])?.cause ?? 'required';
  if (e.keyword === 'additionalProperties') return 'not a field of this request';
  // A parameter given twice arrives as a list: the schema asked for one value.
  if (e.keyword === 'type' && Array.isArray(e.data) && (e.schema === 'string' || e.schema === 'integer')) return GIVEN_TWICE;
  return own?.cause ?? e.message ?? 'not valid';
}

function annotation(schema: unknown): DfError | undefined {
  return schema && typeof schema === 'object' ? ((schema as JsonSchema)[DF_ERROR] as DfError | undefined) : undefined;
}

/** Ajv with the annotation keyword and `verbose` (so an error carries its schema). */
function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ useDefaults: true, verbose: true, strict: true, allowUnionTypes: true, ...options });
  ajv.addKeyword({ keyword: DF_ERROR, schemaType: 'object' });
  return ajv;
}

/**
 * The validators: URL parts and headers arrive as strings, so they are coerced (a repeated
 * parameter becomes a list and is refused where one value is wanted); a body is JSON or a
 * form and is taken as sent, every problem reported at once (bodies are a few KB at most).
 * An empty query value (a form's blank field) counts as left out.
 */
export function registerSchemas(app: FastifyInstance): void {
  const urlAjv = makeAjv({ coerceTypes: 'array', removeAdditional: false, allErrors: false });
  const bodyAjv = makeAjv({ coerceTypes: false, removeAdditional: false, allErrors: true });
  const compile: FastifySchemaCompiler<JsonSchema> = ({ schema, httpPart }) => withRootMessage((httpPart === 'body' ? bodyAjv : urlAjv).compile(schema), annotation(schema)?.message);
  app.setValidatorCompiler(compile);
  app.setSchemaErrorFormatter((errors, part) => formatSchemaError(errors, part));
  app.addHook('preValidation', async (request) => {
    const query = request.query as Record<string, unknown> | undefined;
    if (query && typeof query === 'object') for (const k of Object.keys(query)) if (query[k] === '') delete query[k];
  });
}

// The parts routes share.

export const namespaceName = { type: 'string', maxLength: 63 } as const;
export const objectName = { type: 'string', maxLength: MAX_NAME_LENGTH } as const;

/** Path parameters: a namespace and names; a bad name finds nothing (404), an overlong one is a 414. */
export function pathParams<const K extends string>(...names: K[]) {
  return {
    type: 'object',
    required: names,
    properties: Object.fromEntries(names.map((n) => [n, n === 'namespace' ? namespaceName : objectName])) as Record<K, typeof objectName>,
  } as const;
}

export const namespaceQuery = says({ type: 'string', pattern: DNS_LABEL_PATTERN, description: 'Only this namespace.' }, { cause: NOT_A_NAMESPACE });

/** A query parameter naming an object of a kind (DevicePool, DeviceTemplate). */
export const nameQuery = (kind: string, description: string) =>
  says({ type: 'string', maxLength: MAX_NAME_LENGTH, pattern: DNS_SUBDOMAIN_PATTERN, description }, { cause: notAName(kind) });

/** One value or several (repeated, or comma-separated where the route says so). */
export const oneOrMany = (description: string) => ({ anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description }) as const;

/** A form's fields: strings, a repeated name a list of them. */
export const formField = (description: string) => oneOrMany(description);

/** The error answer's shape, as the error handler sends it (src/http/errors.ts). */
export const errorBody = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', pattern: '^DF_ERR_[A-Z_]+$', description: "A stable code; the README's error table says what each means." },
        message: { type: 'string', description: 'What went wrong and what to do, for a person.' },
        fields: { type: 'array', items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } } },
        sessions: { type: 'array', items: { type: 'object' }, description: 'DF_ERR_CONFIRM_REQUIRED: the sessions the write would end.' },
      },
    },
  },
} as const;

/** What a route's schema says beyond Fastify's parts, for the OpenAPI document (openapi.ts). */
export interface RouteDocs {
  summary?: string;
  description?: string;
  /** Status → the DF_ERR_* codes and when; read by the OpenAPI document. */
  errors?: Record<string, { codes: readonly string[]; description: string }>;
  /** The body as documented, when its rule is not a route schema (a TestSession's is the CRD's). */
  requestBody?: JsonSchema;
  /** Headers of a successful answer, by status. */
  responseHeaders?: Record<string, Record<string, { description: string; schema: JsonSchema }>>;
  /** Successful answers that are not JSON (text, event streams). */
  produces?: Record<string, { type: string; description: string }>;
}

declare module 'fastify' {
  // Fastify reads its own parts of a route schema and leaves these to the document.
  interface FastifySchema extends RouteDocs {}
}

export type DocumentedSchema = FastifySchema;
