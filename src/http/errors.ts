// Errors the dashboard shows to people and scripts. Each has a stable code (looked up in
// the README) and a message that says what to do; 5xx details stay in the log.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ClusterError, type FieldCause } from '../kube/errors.js';
import { wantsJson } from './negotiate.js';

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

export interface ErrorBody {
  error: { code: string; message: string; fields?: FieldCause[] };
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
    return { status: fe.statusCode, body: { error: { code: fe.code ?? 'DF_ERR_BAD_REQUEST', message: fe.message ?? 'bad request' } } };
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

export function sendError(request: FastifyRequest, reply: FastifyReply, status: number, body: ErrorBody): FastifyReply | Promise<unknown> {
  reply.code(status);
  if (wantsJson(request)) return reply.type('application/json; charset=utf-8').send(body);
  if (request.headers['hx-request'] === 'true' && !request.headers['hx-history-restore-request']) {
    // htmx swaps this into the page's flash region instead of the target.
    reply.header('HX-Retarget', '#flash').header('HX-Reswap', 'innerHTML');
    return reply.view('/partials/flash', { level: 'error', message: body.error.message, code: body.error.code });
  }
  return reply.view('/pages/error', { title: `Error ${status}`, status, error: body.error });
}
