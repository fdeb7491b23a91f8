// The first thing the terminal says once the server listens: what runs and the URL to open,
// e.g. "DroidFarm dashboard — embedded demo — open http://localhost:8080", and, when it is
// bound to every interface outside a pod, that anyone on the network can reach it.
import type { ClusterSource } from './config.js';

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
export function exposureWarning(host: string, cluster: ClusterSource, readOnly: boolean): string | null {
  if (!ALL_INTERFACES.has(host) || cluster.mode === 'in-cluster') return null;
  const can = readOnly ? 'see the farm' : 'start, stop and delete test sessions';
  return `listening on every network interface (${host || '0.0.0.0'}): anyone who can reach this machine can ${can}; --host 127.0.0.1 keeps it local`;
}
