// Errors the dashboard shows to people and scripts. Each has a stable DF_ERR_* code (looked
// up in the README's table) and a message that says what to do; 5xx details stay in the
// log. Fastify's own errors (body too large, bad JSON, a path parameter too long…) are
// mapped here too, so no FST_ERR_* code or internal message reaches a client.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ClusterError, type FieldCause } from '../kube/errors.js';
import { wantsFragment, wantsJson } from './negotiate.js';

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldCause[] = [],
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string): AppError => new AppError(404, 'DF_ERR_NOT_FOUND', `${what} was not found.`);
export const badRequest = (message: string, fields: FieldCause[] = []): AppError => new AppError(400, 'DF_ERR_BAD_REQUEST', message, fields);

export const unsupportedMediaType = (): AppError =>
  new AppError(415, 'DF_ERR_UNSUPPORTED_MEDIA_TYPE', 'The dashboard does not read bodies of this Content-Type. Send JSON with Content-Type: application/json.');

/** A name in the path longer than any Kubernetes name: the router's refusal and the route schemas' alike. */
export const nameTooLong = (): AppError =>
  new AppError(414, 'DF_ERR_NAME_TOO_LONG', `A name in the path is longer than Kubernetes allows (${MAX_NAME_LENGTH} characters for names, 63 for namespaces). Check the link.`);

export interface ErrorBody {
  error: { code: string; message: string; fields?: FieldCause[] };
}

/** Kubernetes' limit on object names (DNS subdomains); namespaces allow 63. */
export const MAX_NAME_LENGTH = 253;

/**
 * Fastify's errors that can reach a client, in the dashboard's words. Keyed by Fastify's
 * code; anything else Fastify raises with a 4xx falls back to its status (frameworkError).
 */
const FRAMEWORK_ERRORS: Record<string, (err: Partial<FastifyError>) => { status: number; code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => ({
    status: 413,
    code: 'DF_ERR_TOO_LARGE',
    message: 'The request body is larger than the dashboard accepts (64 KB for a session). Send less: long lists of apps, labels or environment variables belong in the runner image.',
  }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => {
    const { status, code, message } = unsupportedMediaType();
    return { status, code, message };
  },
  FST_ERR_CTP_INVALID_JSON_BODY: () => ({ status: 400, code: 'DF_ERR_BAD_REQUEST', message: 'The request body is not valid JSON. Send a JSON object, for example {"namespace": "…", "pool": "…"}.' }),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => ({ status: 400, code: 'DF_ERR_BAD_REQUEST', message: 'The request body is empty but its Content-Type says JSON. Send a JSON object, or no Content-Type.' }),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => ({ status: 400, code: 'DF_ERR_BAD_REQUEST', message: 'The request body is not as long as its Content-Length header says. Send the body whole.' }),
  FST_ERR_BAD_URL: () => ({ status: 400, code: 'DF_ERR_BAD_REQUEST', message: 'The path is not valid URL encoding. Percent-encode names in paths (encodeURIComponent).' }),
  FST_ERR_MAX_PARAM_LENGTH: () => {
    const { status, code, message } = nameTooLong();
    return { status, code, message };
  },
  FST_ERR_NOT_FOUND: () => ({ status: 404, code: 'DF_ERR_NOT_FOUND', message: 'There is no such page.' }),
  FST_ERR_VALIDATION: (err) => ({ status: 400, code: 'DF_ERR_BAD_REQUEST', message: `The request is not valid: ${err.message ?? ''}` }),
};

/** A 4xx Fastify (or a parser under it) raised: a DF_ERR_* code and a message a person can act on. */
function frameworkError(err: Partial<FastifyError>, status: number): { status: number; code: string; message: string } {
  const known = err.code ? FRAMEWORK_ERRORS[err.code] : undefined;
  if (known) return known(err);
  // secure-json-parse's refusals and JSON.parse's syntax errors come without a code.
  if (err instanceof SyntaxError && /prototype/.test(err.message)) {
    return { status: 400, code: 'DF_ERR_BAD_REQUEST', message: 'The JSON body holds a "__proto__" or "constructor" key, which the dashboard refuses. Remove it.' };
  }
  if (err instanceof SyntaxError) {
    return { status: 400, code: 'DF_ERR_BAD_REQUEST', message: `The request body is not valid JSON (${err.message}). Send a JSON object, for example {"namespace": "…", "pool": "…"}.` };
  }
  if (status === 404) return { status, code: 'DF_ERR_NOT_FOUND', message: 'There is no such page or file.' };
  if (status === 413) return FRAMEWORK_ERRORS.FST_ERR_CTP_BODY_TOO_LARGE!(err);
  if (status === 415) return FRAMEWORK_ERRORS.FST_ERR_CTP_INVALID_MEDIA_TYPE!(err);
  return { status, code: 'DF_ERR_BAD_REQUEST', message: `The dashboard could not serve this request as sent (HTTP ${status}). Check the URL, the method and the headers.` };
}

/** The one mapping from anything thrown to a status, a code and a safe message. */
export function describeError(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof AppError) {
    return { status: err.status, body: { error: { code: err.code, message: err.message, ...(err.fields.length ? { fields: err.fields } : {}) } } };
  }
  if (err instanceof ClusterError) {
    // Unreachable API servers and server faults are a 502/503 from our side, never a 500 with a stack.
    const status = err.status >= 500 ? 503 : err.status === 401 ? 502 : err.status;
    return { status, body: { error: { code: err.code, message: err.explain('complete the request'), ...(err.causes.length ? { fields: err.causes } : {}) } } };
  }
  const fe = err as Partial<FastifyError>;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const { status, code, message } = frameworkError(fe, fe.statusCode);
    return { status, body: { error: { code, message } } };
  }
  return { status: 500, body: { error: { code: 'DF_ERR_INTERNAL', message: 'Something went wrong inside the dashboard; the details are in its log.' } } };
}

export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = describeError(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: body.error.code, status }, body.error.message);
    return sendError(request, reply, status, body);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, 404, { error: { code: 'DF_ERR_NOT_FOUND', message: `There is no page at ${request.url.split('?')[0]}.` } }),
  );
}

/**
 * Fastify's frameworkErrors option: errors the router raises before any route or hook
 * (a path parameter too long, bad percent-encoding) with a bare request and reply.
 */
export function frameworkErrorHandler(getApp: () => FastifyInstance) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const { status, body } = describeError(err);
    request.log.info({ code: body.error.code, status }, body.error.message);
    const app = getApp();
    sendError(request, reply, status, body, app).catch((err: unknown) => {
      if (app.farm) app.farm.store.errors.record('error_page', err, 'an error answer failed to go out', { status });
      else request.log.error({ err, status }, 'an error answer failed to go out');
    });
  };
}

/**
 * Answers an error the way the request wants it: coded JSON for /api and JSON clients, the
 * flash fragment for htmx, the coded error page for a browser. Renders with app.view and
 * the page locals computed here, so it works for a reply that no hook has touched.
 */
export async function sendError(request: FastifyRequest, reply: FastifyReply, status: number, body: ErrorBody, app: FastifyInstance = request.server): Promise<FastifyReply> {
  reply.code(status);
  if (wantsJson(request)) return reply.type('application/json; charset=utf-8').send(body);
  try {
    if (wantsFragment(request)) {
      // htmx swaps this into the page's flash region instead of the target.
      reply.header('HX-Retarget', '#flash').header('HX-Reswap', 'innerHTML');
      return reply.type('text/html; charset=utf-8').send(await app.view('/partials/flash', { level: 'error', message: body.error.message, code: body.error.code }));
    }
    const page = await app.view('/pages/error', { ...app.pageLocals(request), title: `Error ${status}`, status, error: body.error });
    return reply.type('text/html; charset=utf-8').send(page);
  } catch (err) {
    // The page itself failed: the code and message still reach the person, as text.
    request.log.error({ err }, 'error page failed');
    return reply.type('text/plain; charset=utf-8').send(`${body.error.code}: ${body.error.message}\n`);
  }
}
