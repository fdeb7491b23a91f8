// Builds the real dashboard against the test control plane, as a given user, limited to
// the given namespaces, so test files stay out of each other's way.
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { clusterInfo } from './cluster.js';

export interface DashboardOptions {
  namespaces: string[];
  /** A token user from the control plane; default the admin. */
  user?: string;
  args?: string[];
  sync?: AppOptions['sync'];
  live?: AppOptions['live'];
  logs?: AppOptions['logs'];
}

export function dashboardConfig(options: DashboardOptions): Config {
  const info = clusterInfo();
  const kubeconfig = options.user ? info.users[options.user]!.kubeconfig : info.adminKubeconfig;
  const argv = ['--kubeconfig', kubeconfig, '--log-level', 'silent', ...options.namespaces.flatMap((ns) => ['--namespace', ns]), ...(options.args ?? [])];
  return loadConfig({ argv, env: {} })!;
}

export async function startDashboard(options: DashboardOptions): Promise<FastifyInstance> {
  const { sync, live, logs } = options;
  const app = await buildApp(dashboardConfig(options), { ...(sync ? { sync } : {}), ...(live ? { live } : {}), ...(logs ? { logs } : {}) });
  await app.ready();
  return app;
}
