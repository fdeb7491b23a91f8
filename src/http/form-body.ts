// The pages' small urlencoded forms (hx-post without JSON): fields become strings, repeated
// names lists. Registered per route plugin, since Fastify scopes content-type parsers.
import type { FastifyInstance } from 'fastify';

export function registerFormBody(app: FastifyInstance, bodyLimit = 64 * 1024): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(body as string)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    done(null, out);
  });
}

/** The body as a plain object of fields ({} for none or anything else). */
export function formFields(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
