// Every request that may change something passes here first. Browsers say where a request
// comes from (Sec-Fetch-Site, Origin): from a browser, a write must be same-origin AND made
// by htmx (HX-Request, which a cross-site form cannot set) or be JSON (which a cross-site
// page cannot send without a CORS preflight we never answer). Clients that are not browsers
// (curl, CI) send neither header and cannot carry a victim's session, so they pass.
// Read-only dashboards refuse every write.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from './errors.js';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function registerWriteGuard(app: FastifyInstance, { readOnly }: { readOnly: boolean }): void {
  app.addHook('onRequest', async (request) => {
    if (!UNSAFE.has(request.method)) return;
    if (readOnly) throw new AppError(403, 'DF_ERR_READ_ONLY', 'This dashboard is read-only (--read-only): it changes nothing in the cluster. Use kubectl, or a dashboard started without --read-only.');
    const why = crossSiteReason(request);
    if (why) throw new AppError(403, 'DF_ERR_CROSS_SITE', `Refused a write that did not come from the dashboard's own pages (${why}). Scripts send JSON with Content-Type: application/json.`);
  });
}

function crossSiteReason(request: FastifyRequest): string | undefined {
  const site = request.headers['sec-fetch-site'];
  if (site === undefined && request.headers.origin === undefined) return undefined;
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site: ${site}`;
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    // Compared as URL hosts, so a default port (":80") written or not makes no difference.
    let same: boolean;
    try {
      same = new URL(origin).host === new URL(`http://${request.headers.host ?? ''}`).host;
    } catch {
      return 'a malformed Origin or Host header';
    }
    if (!same) return `Origin ${origin} is not this dashboard`;
  } else if (origin === 'null') {
    return 'Origin: null';
  }
  const isHtmx = request.headers['hx-request'] === 'true';
  const isJson = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
  if (!isHtmx && !isJson) return 'neither an htmx request nor JSON';
  return undefined;
}
