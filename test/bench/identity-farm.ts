// The identity bench's farm: the real dashboard (`buildApp`, `--auth proxy`, production
// templates) over the in-memory cluster with 8 namespaces (a pool of 40 devices and 25
// sessions each), whose SubjectAccessReviews follow a made-up RBAC, wait 1 ms like a round
// trip, and are recorded with their key (user, groups, verb, resource, namespace).
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';
import type { AccessDecision, AccessQuestion, Subject } from '../../src/kube/types.js';
import { makeDevices, statusOf } from './farm.js';

export const NAMESPACES = 8;
export const ns = (k: number): string => `team-${k}`;
/** Devices in each namespace's pool. */
export const POOL_DEVICES = 40;

/**
 * user-i sees team-0 always and team-k (k ≥ 1) when bit k-1 of i mod `views` is set: up to
 * 128 distinct views. user-127 (with 128 views) sees every namespace: one person, no scope.
 */
export function mayList(views: number, user: string, namespace: string): boolean {
  const i = Number(user.split('-')[1]) % views;
  const k = Number(namespace.split('-')[1]);
  return k === 0 || ((i >> (k - 1)) & 1) === 1;
}

export class RbacCluster extends MemoryCluster {
  readonly reviews: Array<{ key: string; at: number }> = [];
  constructor(private readonly views: number) {
    super({ bookmarkIntervalMs: 0 });
  }
  override async reviewAccess(subject: Subject, q: AccessQuestion): Promise<AccessDecision> {
    this.reviews.push({ key: `${subject.user}|${[...subject.groups].join(',')}|${q.verb}|${q.resource}|${q.namespace ?? ''}`, at: performance.now() });
    await new Promise((r) => setTimeout(r, 1)); // an apiserver round trip, roughly
    const allowed = q.verb === 'list' || q.verb === 'watch' ? mayList(this.views, subject.user, q.namespace ?? '') : q.verb === 'delete' && (q.namespace ?? '').endsWith('0');
    return { allowed, reason: allowed ? 'bench RBAC' : '' };
  }
}

export async function rbacFarm(views: number): Promise<RbacCluster> {
  const cluster = new RbacCluster(views);
  for (let k = 0; k < NAMESPACES; k++) {
    await cluster.create('templates', ns(k), { metadata: { name: 'pixel' }, spec: { androidVersion: '15', avdProfile: 'pixel_8', emulationBackend: 'cuttlefish' } });
    await cluster.create('pools', ns(k), { metadata: { name: 'farm' }, spec: { templateRef: { name: 'pixel' }, replicas: POOL_DEVICES } });
    await cluster.patch('pools', ns(k), 'farm', { status: statusOf(makeDevices(POOL_DEVICES)) }, { subresource: 'status' });
    for (let j = 0; j < 25; j++) {
      await cluster.create('sessions', ns(k), { metadata: { name: `run-${j}` }, spec: { poolRef: { name: 'farm' } } });
      await cluster.patch('sessions', ns(k), `run-${j}`, { status: { phase: j % 3 ? 'Succeeded' : 'Running' } }, { subresource: 'status' });
    }
  }
  return cluster;
}

/** The dashboard over that cluster, as deployed behind oauth2-proxy, once its store is full. */
export async function startDashboard(cluster: RbacCluster, ttlMs: number): Promise<FastifyInstance> {
  const config = loadConfig({
    argv: ['--demo', '--auth', 'proxy', '--log-level', 'silent', '--max-live-clients-per-address', '100000', '--max-live-clients', '100000'],
    env: { NODE_ENV: 'production' },
  })!;
  const app = await buildApp(config, { cluster, access: { ttlMs } });
  await app.ready();
  const started = Date.now();
  while (!app.farm.store.syncStatus().synced || app.farm.store.sessionCount() < NAMESPACES * 25) {
    if (Date.now() - started > 20_000) throw new Error('the store did not fill');
    await new Promise((r) => setTimeout(r, 20));
  }
  return app;
}
