// URLs from cluster data (device streams, Appium endpoints, artifacts) are untrusted. A URL
// is only ever put in a page as a link or an iframe after it passes this policy: it parses,
// it is https (http only when configured), it carries no credentials, and its origin is on
// the allowlist for what the page does with it. Stream pages may be framed (their origins
// also make the CSP's frame-src); artifact downloads are only linked, from a separate list,
// so allowing a storage bucket for downloads never lets it be framed. Anything else is
// shown as text with the reason, never as something clickable.

export interface UrlPolicy {
  /**
   * Origins whose device stream pages may be embedded (--stream-origin); 'self' allows
   * same-origin paths (the embedded demo's stand-in streams).
   */
  origins: readonly string[];
  /** Origins artifact downloads may link to (--link-origin); never framed. Default: none. */
  linkOrigins?: readonly string[];
  allowHttp: boolean;
}

/** A stand-in origin to resolve same-site paths against. */
const SELF = 'http://self.invalid';

export type UrlVerdict = { ok: true; href: string } | { ok: false; reason: string };

/** A device stream or Appium URL: may be framed or linked when its origin is a stream origin. */
export function checkURL(raw: string, policy: UrlPolicy): UrlVerdict {
  return check(raw, policy.origins, policy.allowHttp, '--stream-origin');
}

/** An artifact download: linked (never framed) when its origin is a link origin. */
export function checkLink(raw: string, policy: UrlPolicy): UrlVerdict {
  return check(raw, policy.linkOrigins ?? [], policy.allowHttp, '--link-origin');
}

function check(raw: string, origins: readonly string[], allowHttp: boolean, flag: string): UrlVerdict {
  if (!raw) return { ok: false, reason: 'no URL reported' };
  if (raw.startsWith('/') && !raw.startsWith('//')) {
    if (!origins.includes("'self'")) return { ok: false, reason: 'relative URLs are not allowed' };
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
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowHttp)) {
    return { ok: false, reason: `${url.protocol.replace(':', '')} URLs are not allowed${url.protocol === 'http:' ? ' (start the dashboard with --allow-http-streams to allow them)' : ''}` };
  }
  if (url.username || url.password) return { ok: false, reason: 'URLs with credentials are not allowed' };
  if (!origins.includes(url.origin)) {
    return { ok: false, reason: `${url.origin} is not an allowed origin (add it with ${flag})` };
  }
  return { ok: true, href: url.href };
}
