// The first thing the terminal says once the server listens: what runs and the URL to open,
// e.g. "DroidFarm dashboard — embedded demo — open http://localhost:8080", and, when it is
// bound to every interface outside a pod, that anyone on the network can reach it.
import { isIP } from 'node:net';
import type { AuthMode, ClusterSource } from './config.js';

const ALL_INTERFACES = new Set(['0.0.0.0', '::', '[::]', '']);

/** The URL a person on this machine opens: localhost when bound to every interface. */
export function dashboardURL(host: string, port: number): string {
  const name = ALL_INTERFACES.has(host) ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

export function startupLine(cluster: ClusterSource, clusterDescription: string, url: string): string {
  const what = cluster.mode === 'demo' ? 'embedded demo' : `watching ${clusterDescription}`;
  return `DroidFarm dashboard — ${what} — open ${url}`;
}

/**
 * A warning when the dashboard is reachable from the network on a machine (not in a pod,
 * where the Service and NetworkPolicy decide): it has no login of its own.
 */
export function exposureWarning(host: string, cluster: ClusterSource, readOnly: boolean, auth: AuthMode = 'none'): string | null {
  // With sign-in, a request without an identity gets 401: reaching the port is not enough.
  if (auth !== 'none' || cluster.mode === 'in-cluster') return null;
  const can = readOnly ? 'see the farm' : 'start, stop and delete test sessions';
  const signIn = readOnly ? '' : ', as the dashboard, without signing in (--auth proxy puts a sign-in in front)';
  if (ALL_INTERFACES.has(host)) {
    return `listening on every network interface (${host || '0.0.0.0'}): anyone who can reach this machine can ${can}; --host 127.0.0.1 keeps it local${signIn && `; they act${signIn}`}`;
  }
  // One address that is not loopback: that network reaches it, and with writes on, it can change the farm.
  if (!readOnly && !isLoopback(host)) {
    return `listening on ${host}, not loopback: anyone who can reach that address can ${can}${signIn}; --host 127.0.0.1 keeps it local`;
  }
  return null;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}
