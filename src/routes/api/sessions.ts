// TestSessions as JSON: the same filters as /sessions, newest first, paged with `limit` and
// an opaque `continue` token (like the Kubernetes list API); create, stop, retry, delete.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sessionJSON, sessionSummaryJSON } from '../../farm/json.js';
import type { SessionView } from '../../farm/types.js';
import { notFound, unsupportedMediaType } from '../../http/errors.js';
import { sessionWriter } from '../writers.js';
import { Session, SessionList } from '../../farm/json-schema.js';
import { pathParams, says, type DocumentedSchema } from '../../http/schema.js';
import { idempotencyKey, NOT_FOUND, READ_ERRORS, SESSION_REQUEST, sessionLocation, WRITE_ERRORS } from './answers.js';
import { SESSION_FILTERS } from '../sessions/filters.js';
import { requireVisible, visibleNamespaces } from '../../http/visibility.js';
import { findSessions, parseSessionFilters, type RawQuery } from '../sessions/filters.js';

type SessionParams = { Params: { namespace: string; name: string } };
/** A session request is small; anything bigger is a mistake or an attack. */
const BODY_LIMIT = 64 * 1024;

const params = pathParams('namespace', 'name');
const location = { Location: { description: 'The session’s JSON API URL.', schema: { type: 'string' } } };

const SCHEMAS = {
  list: { summary: 'TestSessions, newest first, a page at a time', querystring: SESSION_FILTERS, response: { 200: SessionList }, errors: READ_ERRORS },
  get: { summary: 'One TestSession in full', params, response: { 200: Session }, errors: { ...READ_ERRORS, ...NOT_FOUND } },
  create: {
    summary: 'Start a TestSession',
    headers: idempotencyKey,
    // The rule is the TestSession CRD's (checkSessionRequest); requestBody documents it.
    body: says({ type: 'object' }, { message: 'The session was not created', cause: 'must be a JSON object' }),
    requestBody: SESSION_REQUEST,
    response: { 200: Session, 201: Session },
    responseHeaders: { 200: location, 201: location },
    errors: {
      ...WRITE_ERRORS,
      '413': { codes: ['DF_ERR_TOO_LARGE'], description: 'The body is over 64 KB' },
      '415': { codes: ['DF_ERR_UNSUPPORTED_MEDIA_TYPE'], description: 'The body is not JSON' },
      '422': { codes: ['DF_ERR_INVALID', 'DF_ERR_KUBE_INVALID'], description: 'The request breaks a rule; `fields` lists each field and why' },
    },
  },
  delete: {
    summary: 'Delete an ended TestSession',
    params,
    response: { 202: { type: 'object', required: ['status', 'namespace', 'name'], properties: { status: { const: 'deleting' }, namespace: { type: 'string' }, name: { type: 'string' } } } },
    errors: { ...WRITE_ERRORS, ...NOT_FOUND },
  },
  cancel: { summary: 'Stop a TestSession (sets spec.cancelRequested)', params, response: { 200: Session }, errors: { ...WRITE_ERRORS, ...NOT_FOUND } },
  retry: { summary: 'Start an ended TestSession again, as a new one', params, response: { 201: Session }, responseHeaders: { 201: location }, errors: { ...WRITE_ERRORS, ...NOT_FOUND } },
} satisfies Record<string, DocumentedSchema>;

export default async function sessionApiRoutes(app: FastifyInstance): Promise<void> {
  const { store, config } = app.farm;
  const actions = (request: FastifyRequest) => sessionWriter(app, request);
  const toJSON = (view: SessionView) => sessionJSON(view, { showEnvValues: config.showRunnerEnv });

  app.get<{ Querystring: RawQuery }>('/api/v1/sessions', { schema: SCHEMAS.list }, async (request) => {
    const page = findSessions(store, parseSessionFilters(request.query), await visibleNamespaces(app, request, 'sessions'));
    return { items: page.items.map(sessionSummaryJSON), continue: page.next ?? null };
  });

  app.get<SessionParams>('/api/v1/sessions/:namespace/:name', { schema: SCHEMAS.get }, async (request) => {
    const { namespace, name } = request.params;
    await requireVisible(app, request, 'sessions', namespace);
    const session = store.getSession(namespace, name);
    if (!session) throw notFound(`TestSession ${namespace}/${name}`);
    return toJSON(session);
  });

  // Only JSON, said before the body is checked: a form or text is a 415, not a bad body.
  const jsonOnly = async (request: FastifyRequest) => {
    if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) throw unsupportedMediaType();
  };

  app.post<{ Headers: { 'idempotency-key'?: string } }>('/api/v1/sessions', { bodyLimit: BODY_LIMIT, schema: SCHEMAS.create, preValidation: jsonOnly }, async (request, reply) => {
    const { session: view, created } = await actions(request).create(request.body, request.headers['idempotency-key']);
    return reply.code(created ? 201 : 200).header('Location', sessionLocation(view.namespace, view.name)).send(toJSON(view));
  });

  app.delete<SessionParams>('/api/v1/sessions/:namespace/:name', { schema: SCHEMAS.delete }, async (request, reply) => {
    await actions(request).delete(request.params.namespace, request.params.name);
    return reply.code(202).send({ status: 'deleting', namespace: request.params.namespace, name: request.params.name });
  });

  app.post<SessionParams>('/api/v1/sessions/:namespace/:name/cancel', { schema: SCHEMAS.cancel }, async (request) => {
    return toJSON(await actions(request).cancel(request.params.namespace, request.params.name));
  });

  app.post<SessionParams>('/api/v1/sessions/:namespace/:name/retry', { schema: SCHEMAS.retry }, async (request, reply) => {
    const view = await actions(request).retry(request.params.namespace, request.params.name);
    return reply.code(201).header('Location', sessionLocation(view.namespace, view.name)).send(toJSON(view));
  });
}
