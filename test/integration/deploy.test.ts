// deploy/ against the real API server: `kubectl apply --server-side -k deploy/` and its
// overlays go in as shipped, and the dashboard, configured as the Deployment configures it
// and authenticated with a token of the ServiceAccount they create, serves every page,
// JSON endpoint, write and log. Then each permission of its roles is taken away in turn:
// exactly the feature that needs it stops working, and the dashboard says which permission
// is missing instead of crashing. Together these show the roles hold exactly what the
// dashboard uses.
//
// Shared API server: other test files run at the same time against the same apiserver, and
// the global setup has already applied deploy/crds (field manager droidfarm-test-harness).
// Applying deploy/ here applies those CRDs again under another field manager: server-side
// apply makes both managers co-owners of identical values, which is no conflict (hence no
// --force-conflicts: a conflict would mean deploy/ and deploy/crds disagree, and must fail).
// The apiserver keeps serving a CRD whose spec did not change without rebuilding its
// storage (apiextensions-apiserver's crdHandler ignores such updates), so the watches of
// other files live on; the first test proves that with a watch of its own. Everything else
// goes into namespaces of this file, and cluster-scoped RBAC of the overlays gets names of
// its own (helpers/deploy.ts relocate), so variants never share a ClusterRoleBinding.
import fsp from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ApiException, AuthorizationV1Api, CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { Agent, fetch as undiciFetch } from 'undici';
import { CLOSE_TIMEOUT_MS } from '../../src/shutdown.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config.js';
import { domId } from '../../src/view/dom-id.js';
import { adminKubeConfig, appendPodLog, clusterInfo, freshNamespace, podLogFile, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import {
  apply,
  dashboardContainer,
  deployedConfig,
  find,
  kustomize,
  one,
  permissionName,
  permissionsOf,
  relocate,
  removeTempDir,
  render,
  ROOT,
  serviceAccountKubeconfig,
  startDeployedDashboard,
  waitForRbac,
  type BindingManifest,
  type DeploymentManifest,
  type Manifest,
  type Permission,
  type PolicyRule,
  type RoleManifest,
} from '../helpers/deploy.js';
import { createPool, createSession, createTemplate, devices, setDevices, setSessionStatus } from '../helpers/farm.js';
import { openStream, type SseStream } from '../helpers/sse.js';

const SYSTEM = 'droidfarm-system';
const SA = 'droidfarm-dashboard';
const GROUP = 'droidfarm.io';
const SESSIONS = { group: GROUP, version: 'v1alpha1', plural: 'testsessions' };

/** The README's RBAC table: what the dashboard uses, and so all that deploy/ may grant. */
const READ_RULES: PolicyRule[] = [
  { apiGroups: [GROUP], resources: ['devicetemplates'], verbs: ['list', 'watch'] },
  { apiGroups: [GROUP], resources: ['devicepools'], verbs: ['list', 'watch'] },
  { apiGroups: [GROUP], resources: ['testsessions'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
];
const WRITE_RULES: PolicyRule[] = [
  { apiGroups: [GROUP], resources: ['testsessions'], verbs: ['get', 'create', 'patch', 'delete'] },
  { apiGroups: [GROUP], resources: ['devicepools'], verbs: ['get', 'patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['delete'] },
];
const ALL_PERMISSIONS = permissionsOf([...READ_RULES, ...WRITE_RULES]);

/** The store's name for each watched kind, as /readyz reports it. */
const WATCH_NAME: Record<string, string> = { devicetemplates: 'templates', devicepools: 'pools', testsessions: 'sessions', events: 'events' };

const RUNNER_POD = 'runner';
const RUNNER_CONTAINER = 'runner';
const LOG_LINES = ['runner: installing com.example.shop', 'runner: 12 tests passed'];

const core = () => adminKubeConfig().makeApiClient(CoreV1Api);
const custom = () => adminKubeConfig().makeApiClient(CustomObjectsApi);
const rbac = () => adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);

/** A template, a pool with two idle devices, and (unless runner is false) a runner pod on the kwok node whose log kwok serves. */
async function createFarm(namespace: string, { runner = true } = {}): Promise<void> {
  await createTemplate(namespace);
  await createPool(namespace, 'alpha', 2);
  await setDevices(namespace, 'alpha', devices('alpha', 2));
  if (!runner) return;
  const file = await podLogFile(namespace, RUNNER_POD, RUNNER_CONTAINER);
  await appendPodLog(file, LOG_LINES);
  await core().createNamespacedPod({
    namespace,
    body: { metadata: { name: RUNNER_POD }, spec: { nodeName: clusterInfo().kwokNode, containers: [{ name: RUNNER_CONTAINER, image: 'example.invalid/runner:1' }] } },
  });
  await waitFor(`pod ${namespace}/${RUNNER_POD} to run`, async () => (await core().readNamespacedPod({ name: RUNNER_POD, namespace })).status?.phase === 'Running');
}

/** `<prefix>-running` (its runner is RUNNER_POD) and `<prefix>-done` (Succeeded). */
async function createSessions(namespace: string, prefix: string): Promise<void> {
  await createSession(namespace, `${prefix}-running`, { pool: 'alpha' });
  await setSessionStatus(namespace, `${prefix}-running`, { phase: 'Running', podName: RUNNER_POD, device: { name: 'alpha-0' } });
  await createSession(namespace, `${prefix}-done`, { pool: 'alpha' });
  await setSessionStatus(namespace, `${prefix}-done`, { phase: 'Succeeded', results: { passed: 12, failed: 0, skipped: 0 } });
}

/** A pool `<prefix>-pool` of one idle device whose pod `<prefix>-pool-0` runs on the kwok node; returns the pod's name. */
async function createDevicePool(namespace: string, prefix: string): Promise<string> {
  const pool = `${prefix}-pool`;
  const pod = `${pool}-0`;
  await createPool(namespace, pool, 1);
  await setDevices(namespace, pool, [{ name: pod, state: 'Idle', podName: pod }]);
  await core().createNamespacedPod({ namespace, body: { metadata: { name: pod }, spec: { nodeName: clusterInfo().kwokNode, containers: [{ name: 'device', image: 'example.invalid/cuttlefish:1' }] } } });
  return pod;
}

async function poolReplicas(namespace: string, name: string): Promise<number> {
  return ((await custom().getNamespacedCustomObject({ group: GROUP, version: 'v1alpha1', plural: 'devicepools', namespace, name })) as { spec: { replicas: number } }).spec.replicas;
}

/** True once the pod is gone or terminating (kwok finishes the delete on its own time). */
async function podDeleting(namespace: string, name: string): Promise<boolean> {
  try {
    return Boolean((await core().readNamespacedPod({ namespace, name })).metadata?.deletionTimestamp);
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return true;
    throw err;
  }
}

async function getSession(namespace: string, name: string): Promise<{ spec: { cancelRequested?: boolean } } | undefined> {
  try {
    return (await custom().getNamespacedCustomObject({ ...SESSIONS, namespace, name })) as { spec: { cancelRequested?: boolean } };
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

/** GET as the admin, straight to the API server. */
async function adminGet<T>(apiPath: string): Promise<T> {
  const { server, caData, adminToken } = clusterInfo();
  const dispatcher = new Agent({ connect: { ca: Buffer.from(caData, 'base64').toString() } });
  const res = await undiciFetch(`${server}${apiPath}`, { headers: { Authorization: `Bearer ${adminToken}` }, dispatcher });
  if (!res.ok) throw new Error(`GET ${apiPath}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const postJson = (app: FastifyInstance, url: string, body: unknown = {}) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

interface Readyz {
  status: string;
  synced: boolean;
  stale: boolean;
  reasons: string[];
}

async function readyz(app: FastifyInstance): Promise<{ statusCode: number; body: Readyz }> {
  const res = await app.inject('/readyz');
  return { statusCode: res.statusCode, body: res.json() as Readyz };
}

async function waitReady(app: FastifyInstance): Promise<void> {
  await waitFor(
    'the dashboard to have listed everything (/readyz 200)',
    async () => {
      const r = await readyz(app);
      if (r.statusCode !== 200) throw new Error(JSON.stringify(r.body));
      return true;
    },
    { timeoutMs: 15_000 },
  );
}

/** The pages, the JSON API and the writes every variant of deploy/ must serve. */
async function expectEveryPageAndEndpoint(app: FastifyInstance, namespace: string, prefix: string): Promise<void> {
  const pages: Array<[string, string]> = [
    ['/', `id="${domId('pool-card', namespace, 'alpha')}"`],
    ['/pools', `/pools/${namespace}/alpha`],
    [`/pools/${namespace}/alpha`, `id="${domId('tile', namespace, 'alpha', 'alpha-0')}"`],
    [`/pools/${namespace}/alpha/devices/alpha-0`, 'alpha-0'],
    [`/sessions?namespace=${namespace}`, `/sessions/${namespace}/${prefix}-running`],
    [`/sessions/${namespace}/${prefix}-running`, `id="${domId('session', namespace, `${prefix}-running`)}"`],
    [`/sessions/new?namespace=${namespace}&pool=alpha`, 'id="session-form"'],
  ];
  for (const [url, marker] of pages) {
    const res = await app.inject(url);
    expect(res.statusCode, url).toBe(200);
    expect(res.headers['content-type'], url).toMatch(/^text\/html/);
    expect(res.body, url).toContain(marker);
    expect(res.body, url).toMatch(/id="live-badge" data-state="live"/);
  }

  const json = async (url: string) => {
    const res = await app.inject(url);
    expect(res.statusCode, url).toBe(200);
    return res.json();
  };
  expect((await json(`/api/v1/templates?namespace=${namespace}`)).items).toEqual([expect.objectContaining({ name: 'pixel-6', namespace })]);
  expect((await json(`/api/v1/pools?namespace=${namespace}`)).items).toEqual([expect.objectContaining({ name: 'alpha', namespace })]);
  expect((await json(`/api/v1/pools/${namespace}/alpha`)).deviceList).toHaveLength(2);
  expect((await json(`/api/v1/pools/${namespace}/alpha/devices?state=Idle`)).items).toHaveLength(2);
  const sessions = (await json(`/api/v1/sessions?namespace=${namespace}`)).items as Array<{ name: string }>;
  expect(sessions.map((s) => s.name)).toEqual(expect.arrayContaining([`${prefix}-running`, `${prefix}-done`]));
  expect(await json(`/api/v1/sessions/${namespace}/${prefix}-running`)).toMatchObject({ name: `${prefix}-running`, phase: 'Running', pool: 'alpha' });

  // The runner log: through the API server to the kwok node's kubelet stand-in.
  const log = await app.inject(`/api/v1/sessions/${namespace}/${prefix}-running/logs`);
  expect(log.statusCode).toBe(200);
  expect(log.body).toBe(`${LOG_LINES.join('\n')}\n`);
  const tail = await app.inject(`/api/v1/sessions/${namespace}/${prefix}-running/logs?tailLines=1`);
  expect(tail.body).toBe(`${LOG_LINES[1]}\n`);
}

/** Create, stop, retry and delete through the JSON API; each lands in the API server. */
async function expectEveryWrite(app: FastifyInstance, namespace: string, prefix: string): Promise<void> {
  const created = await postJson(app, '/api/v1/sessions', { namespace, pool: 'alpha', name: `${prefix}-new`, timeoutSeconds: 600 });
  expect(created.statusCode, created.body).toBe(201);
  expect(await getSession(namespace, `${prefix}-new`)).toMatchObject({ spec: { poolRef: { name: 'alpha' }, timeoutSeconds: 600 } });
  // Writes come back through the watch.
  await waitFor('the new session in the store', () => app.farm.store.getSession(namespace, `${prefix}-new`));

  const stopped = await postJson(app, `/api/v1/sessions/${namespace}/${prefix}-running/cancel`);
  expect(stopped.statusCode, stopped.body).toBe(200);
  expect((await getSession(namespace, `${prefix}-running`))?.spec.cancelRequested).toBe(true);

  const retried = await postJson(app, `/api/v1/sessions/${namespace}/${prefix}-done/retry`);
  expect(retried.statusCode, retried.body).toBe(201);
  expect(retried.json().name).toMatch(new RegExp(`^${prefix}-done-retry-`));

  const deleted = await app.inject({ method: 'DELETE', url: `/api/v1/sessions/${namespace}/${prefix}-done` });
  expect(deleted.statusCode, deleted.body).toBe(202);
  expect(await getSession(namespace, `${prefix}-done`)).toBeUndefined();

  // Scale a pool (get and patch on devicepools).
  const scaled = await postJson(app, `/api/v1/pools/${namespace}/alpha/scale`, { replicas: 3 });
  expect(scaled.statusCode, scaled.body).toBe(200);
  expect(await poolReplicas(namespace, 'alpha')).toBe(3);
}

// ---------------------------------------------------------------------------------------

describe('deploy/ rendered by kubectl kustomize', () => {
  let install: Manifest[];
  let namespaced: Manifest[];
  let readOnly: Manifest[];
  let ingress: Manifest[];

  beforeAll(async () => {
    [install, namespaced, readOnly, ingress] = await Promise.all([render('deploy'), render('deploy/overlays/namespaced'), render('deploy/overlays/read-only'), render('deploy/ingress')]);
  });

  it('renders every kustomization offline, with no cluster configured', async () => {
    for (const dir of ['deploy', 'deploy/base', 'deploy/overlays/namespaced', 'deploy/overlays/read-only', 'deploy/ingress']) {
      expect(await kustomize(dir), dir).toMatch(/^apiVersion: /m);
    }
  });

  it('installs the CRDs of deploy/crds unchanged, and the dashboard in droidfarm-system', async () => {
    const crds = await render('deploy/crds');
    expect(find(install, 'CustomResourceDefinition')).toEqual(crds);
    expect(install.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual(
      [
        ...crds.map((c) => `CustomResourceDefinition//${c.metadata.name}`),
        `Namespace//${SYSTEM}`,
        `ServiceAccount/${SYSTEM}/${SA}`,
        'ClusterRole//droidfarm-dashboard-read',
        'ClusterRole//droidfarm-dashboard-write',
        'ClusterRoleBinding//droidfarm-dashboard-read',
        'ClusterRoleBinding//droidfarm-dashboard-write',
        `Deployment/${SYSTEM}/${SA}`,
        `Service/${SYSTEM}/${SA}`,
        `NetworkPolicy/${SYSTEM}/${SA}`,
      ].sort(),
    );
    // The example Ingress is not part of the install.
    expect(find(install, 'Ingress')).toEqual([]);
  });

  it('grants exactly the permissions the dashboard uses: no wildcard, no Secret, nothing on Pods but delete', () => {
    expect(one<RoleManifest>(install, 'ClusterRole', 'droidfarm-dashboard-read').rules).toEqual(READ_RULES);
    expect(one<RoleManifest>(install, 'ClusterRole', 'droidfarm-dashboard-write').rules).toEqual(WRITE_RULES);
    for (const name of ['droidfarm-dashboard-read', 'droidfarm-dashboard-write']) {
      const binding = one<BindingManifest>(install, 'ClusterRoleBinding', name);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: SA, namespace: SYSTEM }]);
    }
    for (const objects of [install, namespaced, readOnly]) {
      for (const role of [...find<RoleManifest>(objects, 'ClusterRole'), ...find<RoleManifest>(objects, 'Role')]) {
        for (const rule of role.rules) {
          expect([...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs]).not.toContain('*');
          expect(rule.resources).not.toContain('secrets');
          // Restart deletes a device's pod; nothing else touches pods.
          if (rule.resources?.includes('pods')) expect(rule.verbs).toEqual(['delete']);
        }
      }
    }
  });

  it('overlays/namespaced: the same rules as Roles in each namespace it watches, nothing cluster-wide', () => {
    expect(find(namespaced, 'ClusterRole')).toEqual([]);
    expect(find(namespaced, 'ClusterRoleBinding')).toEqual([]);
    const flags = (dashboardContainer(namespaced).args ?? []).filter((a) => a.startsWith('--namespace=')).map((a) => a.slice('--namespace='.length));
    expect(flags).toEqual(['farm-a', 'farm-b']);
    // Every watched namespace has both Roles and both bindings, and no other namespace has any.
    const roleNamespaces = [...new Set(find(namespaced, 'Role').map((r) => r.metadata.namespace))].sort();
    expect(roleNamespaces).toEqual([...flags].sort());
    for (const ns of flags) {
      expect(one<RoleManifest>(namespaced, 'Role', 'droidfarm-dashboard-read', ns).rules).toEqual(READ_RULES);
      expect(one<RoleManifest>(namespaced, 'Role', 'droidfarm-dashboard-write', ns).rules).toEqual(WRITE_RULES);
      for (const name of ['droidfarm-dashboard-read', 'droidfarm-dashboard-write']) {
        const binding = one<BindingManifest>(namespaced, 'RoleBinding', name, ns);
        expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name });
        // kustomize's namespace setting must not have moved the subject into the watched namespace.
        expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: SA, namespace: SYSTEM }]);
      }
    }
    const config = deployedConfig(dashboardContainer(namespaced), clusterInfo().adminKubeconfig);
    expect(config.namespaces).toEqual(['farm-a', 'farm-b']);
    expect(config.readOnly).toBe(false);
  });

  it('overlays/read-only: no write verb anywhere, and --read-only', () => {
    expect(find(readOnly, 'Role')).toEqual([]);
    expect(find<RoleManifest>(readOnly, 'ClusterRole').map((r) => [r.metadata.name, r.rules])).toEqual([['droidfarm-dashboard-read', READ_RULES]]);
    expect(find(readOnly, 'ClusterRoleBinding').map((b) => b.metadata.name)).toEqual(['droidfarm-dashboard-read']);
    const config = deployedConfig(dashboardContainer(readOnly), clusterInfo().adminKubeconfig);
    expect(config.readOnly).toBe(true);
    expect(config.namespaces).toEqual([]);
    // Apart from that, the same install.
    const withoutRbac = (objects: Manifest[]) => objects.filter((o) => !/Role/.test(o.kind) && o.kind !== 'Deployment');
    expect(withoutRbac(readOnly)).toEqual(withoutRbac(install));
  });

  it('runs the dashboard non-root on a read-only root filesystem, configured only with what src/config.ts knows', () => {
    const deployment = one<DeploymentManifest>(install, 'Deployment', SA);
    const pod = deployment.spec.template.spec as Record<string, unknown>;
    const c = dashboardContainer(install);
    expect(c.image).toBe('ghcr.io/droidfarm/dashboard:0.1.0');
    expect(c.command).toEqual(['node', 'dist/server.js']);
    expect(pod).toMatchObject({
      serviceAccountName: SA,
      automountServiceAccountToken: true,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c).toMatchObject({
      startupProbe: { httpGet: { path: '/healthz', port: 'http' } },
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
      readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
      resources: { requests: { cpu: expect.any(String), memory: expect.any(String) }, limits: { memory: expect.any(String) } },
    });

    // Every variable is one src/config.ts reads (or Node's own); every flag parses.
    const known = new Set([...Object.values(OPTIONS).map((o) => o.env), 'NODE_ENV', 'NODE_OPTIONS']);
    for (const e of c.env ?? []) expect(known, `env ${e.name}`).toContain(e.name);
    const config = deployedConfig(c, clusterInfo().adminKubeconfig);
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', namespaces: [], readOnly: false, production: true, shutdownDelaySeconds: 5 });

    // Port 8080 all the way: container, Service (80 → http), NetworkPolicy.
    expect(c.ports).toEqual([{ name: 'http', containerPort: config.port, protocol: 'TCP' }]);
    const service = one(install, 'Service', SA) as Manifest & { spec: { selector: Record<string, string>; ports: unknown[] } };
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' }]);
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    const policy = one(install, 'NetworkPolicy', SA) as Manifest & { spec: { podSelector: { matchLabels: Record<string, string> }; ingress: Array<{ ports: unknown[] }> } };
    expect(deployment.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.ingress.flatMap((r) => r.ports)).toEqual([{ protocol: 'TCP', port: config.port }]);
  });

  it('gives the server its whole shutdown within the grace period (CLOSE_TIMEOUT_MS)', async () => {
    const closeSeconds = CLOSE_TIMEOUT_MS / 1000;
    const { shutdownDelaySeconds } = deployedConfig(dashboardContainer(install), clusterInfo().adminKubeconfig);
    expect(shutdownDelaySeconds).toBe(5);
    const pod = one<DeploymentManifest>(install, 'Deployment', SA).spec.template.spec as unknown as { terminationGracePeriodSeconds: number };
    // SIGTERM, the delay, then at most the close timeout, then a margin before SIGKILL.
    expect(pod.terminationGracePeriodSeconds - shutdownDelaySeconds - closeSeconds).toBeGreaterThanOrEqual(5);
  });

  it("runs what the Dockerfile builds: its ENTRYPOINT, as its USER", async () => {
    const dockerfile = await fsp.readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(runtime)![1]!) as string[];
    const [uid, gid] = /^USER (\d+):(\d+)$/m.exec(runtime)!.slice(1).map(Number);
    expect(dashboardContainer(install).command).toEqual(entrypoint);
    const pod = one<DeploymentManifest>(install, 'Deployment', SA).spec.template.spec as { securityContext?: { runAsUser?: number; runAsGroup?: number } };
    expect([pod.securityContext?.runAsUser, pod.securityContext?.runAsGroup]).toEqual([uid, gid]);
  });

  it('the example Ingress keeps live streams open and unbuffered, and routes to the Service', () => {
    const ing = one(ingress, 'Ingress', SA) as Manifest & { spec: { rules: Array<{ http: { paths: Array<{ backend: unknown }> } }> } };
    expect(ing.metadata.namespace).toBe(SYSTEM);
    expect(ing.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
    });
    expect(ing.spec.rules[0]!.http.paths[0]!.backend).toEqual({ service: { name: SA, port: { name: 'http' } } });
  });
});

// ---------------------------------------------------------------------------------------

describe('kubectl apply --server-side -k deploy/ on the real API server', () => {
  let watcher: FastifyInstance | undefined;

  afterAll(async () => {
    await watcher?.close();
  });

  it('installs everything, changes nothing on a second apply, and leaves the shared CRDs and their watches alone', async () => {
    // A dashboard (as admin) that watches TestSessions while the CRDs are applied again.
    const watched = await freshNamespace('deploy-watch');
    watcher = await startDashboard({ namespaces: [watched] });
    await waitReady(watcher);
    const crdGenerations = () =>
      Promise.all(
        ['devicetemplates', 'devicepools', 'testsessions'].map(async (p) => [p, (await adminGet<{ metadata: { generation: number } }>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${p}.droidfarm.io`)).metadata.generation]),
      );
    const before = await crdGenerations();

    const first = await apply({ dir: 'deploy' });
    const applied = first.stdout.trim().split('\n').sort();
    expect(applied).toEqual(
      [
        'customresourcedefinition.apiextensions.k8s.io/devicepools.droidfarm.io',
        'customresourcedefinition.apiextensions.k8s.io/devicetemplates.droidfarm.io',
        'customresourcedefinition.apiextensions.k8s.io/testsessions.droidfarm.io',
        `namespace/${SYSTEM}`,
        `serviceaccount/${SA}`,
        'clusterrole.rbac.authorization.k8s.io/droidfarm-dashboard-read',
        'clusterrole.rbac.authorization.k8s.io/droidfarm-dashboard-write',
        'clusterrolebinding.rbac.authorization.k8s.io/droidfarm-dashboard-read',
        'clusterrolebinding.rbac.authorization.k8s.io/droidfarm-dashboard-write',
        `service/${SA}`,
        `deployment.apps/${SA}`,
        `networkpolicy.networking.k8s.io/${SA}`,
      ].sort(),
    );
    expect(first.stderr).not.toMatch(/warning/i);

    // Same spec: the same generation, so the apiserver kept each CRD's storage and watches.
    expect(await crdGenerations()).toEqual(before);
    await createSession(watched, 'after-apply', { pool: 'alpha' });
    await waitFor('the session created after the apply, through the watch opened before it', () => watcher!.farm.store.getSession(watched, 'after-apply'));
    // Events: one watch per involvedObject.kind the pages show.
    expect(watcher.farm.sync.statuses().map((s) => [s.resource, s.fieldSelector ?? '', s.restarts])).toEqual([
      ['templates', '', 0],
      ['pools', '', 0],
      ['sessions', '', 0],
      ['events', 'involvedObject.kind=TestSession', 0],
      ['events', 'involvedObject.kind=DevicePool', 0],
      ['events', 'involvedObject.kind=Pod', 0],
    ]);

    // Applying again is a no-op: no object changes (same resourceVersions).
    const paths = [
      ...['devicetemplates', 'devicepools', 'testsessions'].map((p) => `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${p}.droidfarm.io`),
      `/api/v1/namespaces/${SYSTEM}`,
      `/api/v1/namespaces/${SYSTEM}/serviceaccounts/${SA}`,
      ...['read', 'write'].flatMap((r) => [`/apis/rbac.authorization.k8s.io/v1/clusterroles/droidfarm-dashboard-${r}`, `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/droidfarm-dashboard-${r}`]),
      `/apis/apps/v1/namespaces/${SYSTEM}/deployments/${SA}`,
      `/api/v1/namespaces/${SYSTEM}/services/${SA}`,
      `/apis/networking.k8s.io/v1/namespaces/${SYSTEM}/networkpolicies/${SA}`,
    ];
    const versions = () => Promise.all(paths.map(async (p) => [p, (await adminGet<{ metadata: { resourceVersion: string } }>(p)).metadata.resourceVersion]));
    const unchanged = await versions();
    await apply({ dir: 'deploy' });
    expect(await versions()).toEqual(unchanged);
  });

  it('accepts overlays/read-only and the example Ingress as shipped (server-side dry run)', async () => {
    await apply({ dir: 'deploy' }); // a no-op after the test above; there for running this one alone
    const readOnly = await apply({ dir: 'deploy/overlays/read-only' }, { dryRun: true });
    expect(readOnly.stdout).toContain(`deployment.apps/${SA}`);
    expect(readOnly.stdout).not.toContain('droidfarm-dashboard-write');
    const ingress = await apply({ dir: 'deploy/ingress' }, { dryRun: true });
    expect(ingress.stdout.trim()).toBe(`ingress.networking.k8s.io/${SA}`);
  });

  it('its pod passes the "restricted" Pod Security Standard that droidfarm-system enforces', async () => {
    await apply({ dir: 'deploy' });
    const install = await render('deploy');
    const template = one<DeploymentManifest>(install, 'Deployment', SA).spec.template as unknown as V1Pod;
    const dryRun = (pod: V1Pod) => core().createNamespacedPod({ namespace: SYSTEM, body: { ...pod, metadata: { ...pod.metadata, name: 'pss-check' } }, dryRun: 'All' });
    await expect(dryRun(template)).resolves.toMatchObject({ metadata: { name: 'pss-check' } });
    // The check is real: the same pod without its container securityContext is refused.
    const weaker = structuredClone(template);
    delete weaker.spec!.containers[0]!.securityContext;
    const refusal = await dryRun(weaker).then(
      () => undefined,
      (err: unknown) => err as ApiException<string>,
    );
    expect(refusal?.code).toBe(403);
    expect((JSON.parse(String(refusal?.body)) as { message: string }).message).toContain('violates PodSecurity "restricted:latest"');
  });
});

// ---------------------------------------------------------------------------------------

describe('the dashboard with the ServiceAccount of deploy/, configured as its Deployment is', () => {
  let namespace: string;
  let app: FastifyInstance;
  let kc: KubeConfig;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    namespace = await freshNamespace('deploy-farm');
    // deploy/ is applied by the describe above; applying again here keeps this block runnable alone.
    await apply({ dir: 'deploy' });
    await createFarm(namespace);
    await createSessions(namespace, 'main');
    const sa = await serviceAccountKubeconfig(SYSTEM, SA);
    kc = sa.kc;
    await waitForRbac(kc, namespace, ALL_PERMISSIONS);
    // As deployed: no --namespace, so it watches every namespace (other test files' too).
    app = await startDeployedDashboard(deployedConfig(dashboardContainer(await render('deploy')), sa.path));
    await app.listen({ host: '127.0.0.1', port: 0 });
    await waitReady(app);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await app?.close();
  });

  it('watches every namespace, and serves every page, JSON endpoint and runner log', async () => {
    expect(app.farm.config).toMatchObject({ namespaces: [], readOnly: false, cluster: { mode: 'kubeconfig' } });
    expect(app.farm.sync.statuses().map((s) => [s.resource, s.namespace ?? 'all'])).toEqual([
      ['templates', 'all'],
      ['pools', 'all'],
      ['sessions', 'all'],
      ['events', 'all'],
      ['events', 'all'],
      ['events', 'all'],
    ]);
    await waitFor('the test farm in the store', () => app.farm.store.getSession(namespace, 'main-running'));
    await expectEveryPageAndEndpoint(app, namespace, 'main');
  });

  it('streams changes and Kubernetes Events as they happen (watch and core/v1 events)', async () => {
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const feed = await openStream(`${base}/api/v1/events?namespace=${namespace}`);
    streams.push(feed);
    expect(feed.status).toBe(200);
    await createSession(namespace, 'main-streamed', { pool: 'alpha' });
    await feed.next((e) => e.event === 'session' && e.data.includes('"main-streamed"'));

    await core().createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: 'main-running.assigned' },
        involvedObject: { apiVersion: `${GROUP}/v1alpha1`, kind: 'TestSession', name: 'main-running', namespace },
        reason: 'DeviceAssigned',
        message: 'assigned to device alpha-0 of pool alpha',
        type: 'Normal',
        source: { component: 'droidfarm-operator' },
        firstTimestamp: new Date(),
        lastTimestamp: new Date(),
      },
    });
    await waitFor('the Event on the session page', async () => (await app.inject(`/sessions/${namespace}/main-running`)).body.includes('assigned to device alpha-0 of pool alpha'));
  });

  it('creates, stops, retries and deletes TestSessions', async () => {
    await expectEveryWrite(app, namespace, 'main');
  });

  it('may do exactly what the README says in a namespace, and nothing else (SelfSubjectRulesReview)', async () => {
    const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectRulesReview({ body: { spec: { namespace } } });
    const granted = (review.status?.resourceRules ?? [])
      // What every authenticated user may do (system:basic-user): ask about its own rights.
      .filter((r) => !(r.apiGroups ?? []).every((g) => g === 'authorization.k8s.io' || g === 'authentication.k8s.io'))
      .flatMap((r) => permissionsOf([{ apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], verbs: r.verbs }]))
      .map(permissionName)
      .sort();
    expect(granted).toEqual(ALL_PERMISSIONS.map(permissionName).sort());
  });
});

// ---------------------------------------------------------------------------------------

describe('overlays/read-only, applied beside the install', () => {
  let farm: string;
  let system: string;
  let app: FastifyInstance;
  let kc: KubeConfig;

  beforeAll(async () => {
    farm = await freshNamespace('deploy-ro-farm');
    system = await freshNamespace('deploy-ro-system');
    const objects = relocate(await render('deploy/overlays/read-only'), { namespaces: { [SYSTEM]: system }, suffix: `-${system}` });
    await apply({ objects });
    await createFarm(farm);
    await createSessions(farm, 'ro');
    const sa = await serviceAccountKubeconfig(system, SA);
    kc = sa.kc;
    const reads = permissionsOf(READ_RULES);
    const writes = permissionsOf(WRITE_RULES);
    await waitForRbac(kc, farm, reads, writes);
    app = await startDeployedDashboard(deployedConfig(dashboardContainer(objects), sa.path, ['--namespace', farm]));
    await waitReady(app);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('shows everything, logs included, and offers no write action', async () => {
    await waitFor('the test farm in the store', () => app.farm.store.getSession(farm, 'ro-running'));
    await expectEveryPageAndEndpoint(app, farm, 'ro');
    const page = await app.inject(`/sessions/${farm}/ro-running`);
    // The layout marks the page read-only, and the stylesheet hides every .write-action by it.
    expect(page.body).toMatch(/<body [^>]*data-read-only/);
  });

  it('refuses every write before it reaches the API server, which would refuse it too', async () => {
    const attempts = [
      postJson(app, '/api/v1/sessions', { namespace: farm, pool: 'alpha', name: 'ro-new' }),
      postJson(app, `/api/v1/sessions/${farm}/ro-running/cancel`),
      postJson(app, `/api/v1/sessions/${farm}/ro-done/retry`),
      app.inject({ method: 'DELETE', url: `/api/v1/sessions/${farm}/ro-done` }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('DF_ERR_READ_ONLY');
    }
    expect(await getSession(farm, 'ro-new')).toBeUndefined();
    expect((await getSession(farm, 'ro-running'))?.spec.cancelRequested).toBeFalsy();
    expect(await getSession(farm, 'ro-done')).toBeDefined();
    // Not only hidden: the ServiceAccount itself may not write (waitForRbac checked each verb).
    const direct = await kc
      .makeApiClient(CustomObjectsApi)
      .deleteNamespacedCustomObject({ ...SESSIONS, namespace: farm, name: 'ro-done' })
      .then(
        () => 200,
        (err: unknown) => (err as ApiException<string>).code,
      );
    expect(direct).toBe(403);
  });
});

// ---------------------------------------------------------------------------------------

describe('overlays/namespaced, applied beside the install', () => {
  let watchedA: string;
  let watchedB: string;
  let elsewhere: string;
  let app: FastifyInstance;
  let kc: KubeConfig;

  beforeAll(async () => {
    [watchedA, watchedB, elsewhere] = await Promise.all([freshNamespace('deploy-ns-a'), freshNamespace('deploy-ns-b'), freshNamespace('deploy-ns-other')]);
    const system = await freshNamespace('deploy-ns-system');
    // The overlay's example namespaces farm-a and farm-b become this file's namespaces.
    const objects = relocate(await render('deploy/overlays/namespaced'), { namespaces: { [SYSTEM]: system, 'farm-a': watchedA, 'farm-b': watchedB }, suffix: `-${system}` });
    await apply({ objects });
    await createFarm(watchedA);
    await createSessions(watchedA, 'nsa');
    await createFarm(elsewhere, { runner: false });
    const sa = await serviceAccountKubeconfig(system, SA);
    kc = sa.kc;
    await waitForRbac(kc, watchedA, ALL_PERMISSIONS);
    await waitForRbac(kc, watchedB, ALL_PERMISSIONS);
    await waitForRbac(kc, elsewhere, [], ALL_PERMISSIONS);
    // Its own flags: --namespace for each watched namespace, nothing added here.
    app = await startDeployedDashboard(deployedConfig(dashboardContainer(objects), sa.path));
    await waitReady(app);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('watches the listed namespaces only, each with its own Role, and may do nothing anywhere else', async () => {
    expect(app.farm.config.namespaces).toEqual([watchedA, watchedB]);
    expect(new Set(app.farm.sync.statuses().map((s) => s.namespace))).toEqual(new Set([watchedA, watchedB]));
    // Nothing cluster-wide: not even listing sessions in all namespaces.
    await waitForRbac(kc, undefined, [], [{ group: GROUP, resource: 'testsessions', verb: 'list' }]);
    await waitFor('the farm of the first watched namespace in the store', () => app.farm.store.getSession(watchedA, 'nsa-running'));
    expect(app.farm.store.getPool(elsewhere, 'alpha')).toBeUndefined();
  });

  it('serves every page, JSON endpoint, write and log in a watched namespace', async () => {
    await expectEveryPageAndEndpoint(app, watchedA, 'nsa');
    await expectEveryWrite(app, watchedA, 'nsa');
  });

  it('refuses a session in a namespace it does not watch, before asking the API server', async () => {
    const res = await postJson(app, '/api/v1/sessions', { namespace: elsewhere, pool: 'alpha', name: 'not-here' });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.fields).toEqual([expect.objectContaining({ field: 'namespace' })]);
    expect(await getSession(elsewhere, 'not-here')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------

type Feature = 'ready' | 'live' | 'logs' | 'create' | 'stop' | 'delete' | 'scale' | 'restart';
const FEATURES: Feature[] = ['ready', 'live', 'logs', 'create', 'stop', 'delete', 'scale', 'restart'];

/** What stops working without a permission. */
function breaksWithout(p: Permission): Feature[] {
  if (p.verb === 'list') return FEATURES; // nothing is served before every kind has been listed
  // Issue 9.5: a refused watch is a refused read too; pages and API say so rather than
  // serving data that can no longer be kept current.
  if (p.verb === 'watch') return ['live', 'logs', 'create', 'stop', 'delete', 'scale', 'restart'];
  if (p.resource === 'pods/log') return ['logs'];
  if (p.resource === 'pods') return ['restart'];
  if (p.resource === 'devicepools') return p.verb === 'get' ? ['scale', 'restart'] : ['scale'];
  return { get: ['stop', 'delete'], create: ['create'], patch: ['stop'], delete: ['delete'] }[p.verb] as Feature[];
}

describe('one permission less: exactly the feature that needs it fails, and the dashboard says why', () => {
  let namespace: string;
  let container: ReturnType<typeof dashboardContainer>;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    namespace = await freshNamespace('deploy-rbac');
    await createFarm(namespace);
    container = dashboardContainer(await render('deploy'));
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
  });

  it('lists every permission of the roles once', () => {
    expect(ALL_PERMISSIONS.map(permissionName)).toEqual([
      'list devicetemplates.droidfarm.io',
      'watch devicetemplates.droidfarm.io',
      'list devicepools.droidfarm.io',
      'watch devicepools.droidfarm.io',
      'list testsessions.droidfarm.io',
      'watch testsessions.droidfarm.io',
      'list events',
      'watch events',
      'get pods/log',
      'get testsessions.droidfarm.io',
      'create testsessions.droidfarm.io',
      'patch testsessions.droidfarm.io',
      'delete testsessions.droidfarm.io',
      'get devicepools.droidfarm.io',
      'patch devicepools.droidfarm.io',
      'delete pods',
    ]);
  });

  // Each variant has its own ServiceAccount, Role and sessions, so they run side by side.
  it.concurrent.for(ALL_PERMISSIONS.map((p) => [permissionName(p), p] as const))('without %s', async ([_name, missing], { expect }) => {
    const id = `${missing.verb}-${missing.resource.replace('/', '-')}`;
    const sa = `dashboard-${id}`;
    // The roles of deploy/ as one namespaced Role, minus this one verb.
    const rules = [...READ_RULES, ...WRITE_RULES]
      .map((r) => ({ ...r, verbs: r.verbs.filter((v) => !(r.resources!.includes(missing.resource) && r.apiGroups!.includes(missing.group) && v === missing.verb)) }))
      .filter((r) => r.verbs.length > 0);
    await core().createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
    await rbac().createNamespacedRole({ namespace, body: { metadata: { name: sa }, rules } });
    await rbac().createNamespacedRoleBinding({
      namespace,
      body: { metadata: { name: sa }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa }, subjects: [{ kind: 'ServiceAccount', name: sa, namespace }] },
    });
    await createSessions(namespace, id);
    const devicePod = await createDevicePool(namespace, id);
    const token = await serviceAccountKubeconfig(namespace, sa);
    await waitForRbac(
      token.kc,
      namespace,
      ALL_PERMISSIONS.filter((p) => p !== missing),
      [missing],
    );
    const app = await startDeployedDashboard(deployedConfig(container, token.path, ['--namespace', namespace]));
    apps.push(app);

    // Settle first: the first list or watch has been refused, or everything is listed and watched.
    const watch = WATCH_NAME[missing.resource];
    const refusal = `cannot ${missing.verb} resource "${missing.resource}"`;
    const settled = await waitFor(`/readyz to settle without ${permissionName(missing)}`, async () => {
      const r = await readyz(app);
      if (missing.verb === 'list') return r.statusCode === 503 && r.body.reasons.some((x) => x.includes(refusal)) && r;
      if (missing.verb === 'watch') return r.statusCode === 200 && r.body.stale && r.body.reasons.some((x) => x.includes(refusal)) && r;
      return r.statusCode === 200 && !r.body.stale && r;
    });
    expect((await app.inject('/healthz')).statusCode).toBe(200);

    const outcome: Record<Feature, { ok: boolean; status: number; body: string }> = {
      ready: { ok: settled.statusCode === 200, status: settled.statusCode, body: JSON.stringify(settled.body) },
      live: { ok: !settled.body.stale, status: settled.statusCode, body: JSON.stringify(settled.body) },
      logs: await (async () => {
        const res = await app.inject(`/api/v1/sessions/${namespace}/${id}-running/logs`);
        return { ok: res.statusCode === 200 && res.body === `${LOG_LINES.join('\n')}\n`, status: res.statusCode, body: res.body };
      })(),
      create: await (async () => {
        const res = await postJson(app, '/api/v1/sessions', { namespace, pool: 'alpha', name: `${id}-new` });
        return { ok: res.statusCode === 201 && (await getSession(namespace, `${id}-new`)) !== undefined, status: res.statusCode, body: res.body };
      })(),
      stop: await (async () => {
        const res = await postJson(app, `/api/v1/sessions/${namespace}/${id}-running/cancel`);
        return { ok: res.statusCode === 200 && (await getSession(namespace, `${id}-running`))?.spec.cancelRequested === true, status: res.statusCode, body: res.body };
      })(),
      delete: await (async () => {
        const res = await app.inject({ method: 'DELETE', url: `/api/v1/sessions/${namespace}/${id}-done` });
        return { ok: res.statusCode === 202 && (await getSession(namespace, `${id}-done`)) === undefined, status: res.statusCode, body: res.body };
      })(),
      scale: await (async () => {
        const res = await postJson(app, `/api/v1/pools/${namespace}/${id}-pool/scale`, { replicas: 2 });
        return { ok: res.statusCode === 200 && (await poolReplicas(namespace, `${id}-pool`)) === 2, status: res.statusCode, body: res.body };
      })(),
      restart: await (async () => {
        const res = await postJson(app, `/api/v1/pools/${namespace}/${id}-pool/devices/${id}-pool-0/restart`);
        return { ok: res.statusCode === 202 && (await podDeleting(namespace, devicePod)), status: res.statusCode, body: res.body };
      })(),
    };
    const failed = FEATURES.filter((f) => !outcome[f].ok);
    expect(failed, JSON.stringify(outcome, null, 2)).toEqual(breaksWithout(missing));

    // How each failure reads.
    const where = `in API group "${missing.group}" in the namespace "${namespace}"`;
    if (missing.verb === 'list' || missing.verb === 'watch') {
      const reason = settled.body.reasons.find((x) => x.includes(refusal))!;
      const state = missing.verb === 'list' ? 'waiting for the first list (list: 403 ' : 'watch failing, retrying (watch: 403 ';
      // Events' watches name their selector: "events (involvedObject.kind=Pod) in …".
      expect(reason.replace(/ \(involvedObject\.kind=\w+\)/, '')).toContain(`${watch} in ${namespace}: ${state}`);
      expect(reason).toContain(`User "system:serviceaccount:${namespace}:${sa}" ${refusal} ${where}`);
    }
    if (missing.verb === 'list' || missing.verb === 'watch') {
      // Nothing is served from a cache that is not complete or current, and (issue 9.5) every
      // API answer and page says which read is refused, where, and what to grant.
      const refused = `The dashboard may not ${missing.verb} ${missing.resource} in ${namespace}: grant its Kubernetes identity list and watch on ${missing.resource}`;
      for (const f of ['logs', 'create', 'stop', 'delete', 'scale', 'restart'] as const) {
        expect(outcome[f].status, f).toBe(403);
        expect(JSON.parse(outcome[f].body).error.code, f).toBe('DF_ERR_KUBE_FORBIDDEN');
        expect(JSON.parse(outcome[f].body).error.message, f).toContain(refused);
      }
      const page = await app.inject('/');
      expect(page.statusCode).toBe(403);
      expect(page.body).toMatch(/id="live-badge" data-state="forbidden"/);
      expect(page.body).toContain(refused);
      expect(page.body).toContain(`cannot ${missing.verb} resource &quot;${missing.resource}&quot;`);
    }
    for (const f of failed.filter((x) => !['ready', 'live'].includes(x) && missing.verb !== 'list' && missing.verb !== 'watch')) {
      expect(outcome[f].status, f).toBe(403);
      const { error } = JSON.parse(outcome[f].body) as { error: { code: string; message: string } };
      expect(error.code, f).toBe('DF_ERR_KUBE_FORBIDDEN');
      expect(error.message, f).toMatch(/^Not allowed to (read|create|stop|delete|scale) .*: the dashboard's RBAC role lacks this permission\./);
      expect(error.message, f).toContain(`${refusal} ${where}`);
    }
  });
});

afterAll(async () => {
  await removeTempDir();
});
