// URLs from cluster data (device streams, Appium endpoints, artifacts) are untrusted. A URL
// is only ever put in a page as a link or an iframe after it passes this policy: it parses,
// it is https (http only when configured), it carries no credentials, and, for anything the
// page embeds or links to, its origin is on the configured allowlist. Anything else is
// shown as text with the reason, never as something clickable.

export interface UrlPolicy {
  /** Allowed origins; 'self' allows same-origin paths (the embedded demo's stand-in streams). */
  origins: readonly string[];
  allowHttp: boolean;
}

/** A stand-in origin to resolve same-site paths against. */
const SELF = 'http://self.invalid';

export type UrlVerdict = { ok: true; href: string } | { ok: false; reason: string };

export function checkURL(raw: string, policy: UrlPolicy): UrlVerdict {
  if (!raw) return { ok: false, reason: 'no URL reported' };
  if (raw.startsWith('/') && !raw.startsWith('//')) {
    if (!policy.origins.includes("'self'")) return { ok: false, reason: 'relative URLs are not allowed' };
    // Resolve it as a browser would: '/\host' and '/<tab>/host' mean '//host', another site.
    let resolved: URL;
    try {
      resolved = new URL(raw, SELF);
    } catch {
      return { ok: false, reason: 'not a valid URL' };
    }
    if (resolved.origin !== SELF) return { ok: false, reason: 'relative URLs must stay on this site' };
    return { ok: true, href: resolved.pathname + resolved.search + resolved.hash };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return { ok: false, reason: `${url.protocol.replace(':', '')} URLs are not allowed${url.protocol === 'http:' ? ' (start the dashboard with --allow-http-streams to allow them)' : ''}` };
  }
  if (url.username || url.password) return { ok: false, reason: 'URLs with credentials are not allowed' };
  if (!policy.origins.includes(url.origin)) {
    return { ok: false, reason: `${url.origin} is not an allowed origin (add it with --stream-origin)` };
  }
  return { ok: true, href: url.href };
}
