// Limits on what a client can start: writes and requests for pages that do not exist are
// rate-limited per client address (@fastify/rate-limit, in memory: one replica's view);
// the live streams and runner-log follows have caps of their own (src/live/admission.ts,
// LogFollowers). Every refusal is a 429 or 503 with Retry-After and a DF_ERR_* code.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Limits } from '../config.js';
import { AppError } from './errors.js';

/**
 * The listen backlog. A fleet of tabs reconnecting after a deploy arrives at once: with
 * Node's default (511) the kernel drops connects and browsers retry 1, 3, 7 s later.
 */
export const LISTEN_BACKLOG = 4096;

/** A refusal because of a limit: says when to come back (the Retry-After header, in seconds). */
export class LimitError extends AppError {
  constructor(
    status: 429 | 503,
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(status, code, message);
    this.name = 'LimitError';
  }
}

export type RateLimited = 'writes' | 'not_found';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Registers the rate limits; `refused` counts each refusal for /metrics. */
export async function registerLimits(app: FastifyInstance, limits: Pick<Limits, 'writesPerMinute' | 'notFoundPerMinute'>, refused: Record<RateLimited, number>): Promise<void> {
  // Headers set here survive into the error handler's answer.
  app.addHook('onError', async (_request, reply, error) => {
    if (error instanceof LimitError) reply.header('Retry-After', String(error.retryAfterSeconds));
  });
  await app.register(rateLimit, { global: false });
  const limiter = (kind: RateLimited, max: number, what: string) =>
    app.rateLimit({
      max,
      timeWindow: 60_000,
      onExceeded: () => refused[kind]++,
      errorResponseBuilder: (_request, context) =>
        new LimitError(429, 'DF_ERR_RATE_LIMITED', `Too many ${what} from your address (at most ${context.max} a minute); try again in ${context.after}.`, Math.max(1, Math.ceil(context.ttl / 1000))),
    });
  const writes = limiter('writes', limits.writesPerMinute, 'changes');
  const notFound = limiter('not_found', limits.notFoundPerMinute, 'requests for pages that do not exist');
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) await notFound.call(app, request, reply);
    else if (!SAFE_METHODS.has(request.method)) await writes.call(app, request, reply);
  });
}
