// DNS rebinding: a page on an attacker's site whose name is made to resolve to the
// dashboard's address can read it from a victim's browser (same origin, as far as the
// browser knows). With --allowed-host, only requests that name one of the dashboard's own
// host names are served; any other gets 421 Misdirected Request. Probes and /metrics stay
// open: kubelet probes and Prometheus pod scrapes name the pod IP, and neither carries
// farm data (metric labels hold no device or session names).
import type { FastifyInstance } from 'fastify';
import { hostAllowed, type AllowedHost } from '../config-network.js';
import { sendError } from './errors.js';

const EXEMPT = new Set(['/healthz', '/readyz', '/metrics']);

export function registerHostGuard(app: FastifyInstance, allowed: readonly AllowedHost[]): void {
  if (allowed.length === 0) return;
  const names = allowed.map((a) => `${a.hostname}${a.port ? `:${a.port}` : ''}`).join(', ');
  app.addHook('onRequest', async (request, reply) => {
    if (EXEMPT.has(request.url.split('?')[0]!)) return;
    const host = request.headers.host;
    if (hostAllowed(host, allowed)) return;
    const named = host === undefined ? 'no host name' : `the host name ${JSON.stringify(host.length > 100 ? `${host.slice(0, 100)}…` : host)}`;
    return sendError(request, reply, 421, {
      error: {
        code: 'DF_ERR_MISDIRECTED',
        message: `This dashboard answers only for ${names}, and this request named ${named}. Open the dashboard at one of those names; if this name is one of its addresses, add it with --allowed-host (DROIDFARM_ALLOWED_HOSTS).`,
      },
    });
  });
}
