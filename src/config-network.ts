// Where the dashboard listens and which names and origins it trusts: --host, --allowed-host
// (and the Host header check against it), the stream and link origins (never the
// dashboard's own), and the CIDRs of trusted proxies. Parsed at start-up like every setting
// (config.ts), so a bad value stops the process with a message naming the flag.
import { isIP } from 'node:net';
import { ConfigError } from './flags.js';

/** One --allowed-host: a host name or IP, and a port when one was given (then only that port). */
export interface AllowedHost {
  hostname: string;
  port: string | undefined;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;

/** --host: what listen() takes, an IP address or a host name; anything else fails at start, not at bind. */
export function parseHost(raw: string, flag: string): string {
  if (isIP(raw) !== 0 || HOST_NAME.test(raw)) return raw;
  const hint = /^\[.*\]$/.test(raw) ? ` Write an IPv6 address without brackets, e.g. --host ${raw.slice(1, -1)}.` : /[:/]/.test(raw) ? ' Give the address only: no scheme, port (use --port) or path.' : '';
  throw new ConfigError(`${flag} ${JSON.stringify(raw)} is not an IP address or a host name.${hint} Examples: 0.0.0.0 (every interface), 127.0.0.1 (this machine only), :: (IPv6).`);
}

/** --allowed-host: a host name or IP address, optionally :port, as a Host header names it. */
export function parseAllowedHost(raw: string): AllowedHost {
  const value = raw.trim().toLowerCase().replace(/\.$/, '');
  let url: URL | undefined;
  try {
    url = /[/@?#\\]/.test(value) ? undefined : new URL(`http://${value}`);
  } catch {
    url = undefined;
  }
  const hostname = url?.hostname.replace(/\.$/, '');
  if (!url || !hostname || (!HOST_NAME.test(hostname) && isIP(hostname.replace(/^\[|\]$/g, '')) === 0)) {
    throw new ConfigError(`--allowed-host ${JSON.stringify(raw)} is not a host name: give the name people open the dashboard at, e.g. dashboard.farm.example or localhost:8080 (no scheme or path).`);
  }
  // A port written explicitly (URL drops :80) binds the entry to it.
  const port = /:\d+$/.test(value) ? (url.port || '80') : undefined;
  return { hostname, port };
}

/** Whether a Host header's name (and port) is one of the allowed. */
export function hostAllowed(hostHeader: string | undefined, allowed: readonly AllowedHost[]): boolean {
  if (allowed.length === 0) return true;
  if (!hostHeader) return false;
  let url: URL;
  try {
    if (/[/@?#\\]/.test(hostHeader)) return false;
    url = new URL(`http://${hostHeader.toLowerCase()}`);
  } catch {
    return false;
  }
  const hostname = url.hostname.replace(/\.$/, '');
  const port = url.port || '80';
  return allowed.some((a) => a.hostname === hostname && (a.port === undefined || a.port === port));
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why a stream origin is the dashboard itself (an allowed host name, or its own address and port), if it is. */
export function ownOrigin(origin: string, own: { host: string; port: number; allowedHosts: readonly AllowedHost[] }): string | undefined {
  const url = new URL(origin);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const hostname = url.hostname.replace(/\.$/, '');
  const named = own.allowedHosts.find((a) => a.hostname === hostname && (a.port === undefined || a.port === port));
  if (named) return `--allowed-host ${named.hostname}${named.port ? `:${named.port}` : ''}`;
  if (port !== String(own.port)) return undefined;
  const everywhere = own.host === '0.0.0.0' || own.host === '::';
  const bound = own.host.includes(':') ? `[${own.host}]` : own.host.toLowerCase();
  if (hostname === bound || (everywhere || LOOPBACK_NAMES.has(bound) ? LOOPBACK_NAMES.has(hostname) : false)) return `--host ${own.host} --port ${own.port}`;
  return undefined;
}

export function parseOrigin(raw: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${flag} ${JSON.stringify(raw)} is not a URL: use scheme://host[:port], e.g. https://${flag === '--link-origin' ? 'artifacts' : 'streams'}.farm.example.`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new ConfigError(`${flag} ${JSON.stringify(raw)} must be an origin only: scheme://host[:port], http or https, no path or credentials.`);
  }
  return url.origin;
}

/** "10.0.0.0/8", "127.0.0.1", "::1/128" → the address and the prefix length; null when malformed. */
export function parseCidr(raw: string): { address: string; prefix: number; family: 4 | 6 } | null {
  const [address = '', bits, ...rest] = raw.split('/');
  if (rest.length) return null;
  const family = isIP(address);
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return null;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return null;
  return { address, prefix, family: family as 4 | 6 };
}
