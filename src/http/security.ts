// Security headers on every response. No inline script or style anywhere, so the CSP can
// be strict; frames only from the configured device-stream origins; the dashboard itself
// is never framed.
import type { FastifyInstance } from 'fastify';

export function contentSecurityPolicy(streamOrigins: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    `frame-src ${streamOrigins.length > 0 ? streamOrigins.join(' ') : "'none'"}`,
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

export function registerSecurityHeaders(app: FastifyInstance, streamOrigins: readonly string[]): void {
  const csp = contentSecurityPolicy(streamOrigins);
  app.addHook('onSend', async (_request, reply, payload) => {
    // A route may set a stricter policy of its own (the demo's stand-in stream page).
    if (!reply.hasHeader('Content-Security-Policy')) reply.header('Content-Security-Policy', csp);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    // Pages and fragments share URLs; caches must keep them apart.
    reply.header('Vary', 'HX-Request, Accept');
    return payload;
  });
}
