// How a request wants its answer: JSON for the API and for clients that ask for it; an
// HTML fragment for htmx swaps; a whole page otherwise (including history restores).
import type { FastifyRequest } from 'fastify';

export function wantsJson(request: FastifyRequest): boolean {
  if (request.url.startsWith('/api/')) return true;
  const accept = request.headers.accept ?? '';
  // An event-stream client (EventSource, curl -N) cannot use an error page either.
  if (accept.includes('text/event-stream') || request.url.startsWith('/live')) return true;
  return accept.includes('application/json') && !accept.includes('text/html');
}

export function wantsFragment(request: FastifyRequest): boolean {
  return request.headers['hx-request'] === 'true' && request.headers['hx-history-restore-request'] !== 'true';
}
