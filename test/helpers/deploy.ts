// deploy/ as kubectl sees it: kustomizations rendered by the kubectl that matches the test
// API server, applied server-side, optionally moved to other namespaces and names so that
// several variants can live side by side in one shared API server; and the dashboard run
// the way the rendered Deployment configures it, with a ServiceAccount's token.
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AuthorizationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { adminKubeConfig, clusterInfo, kubeConfigWithToken, waitFor } from './cluster.js';

const execFileAsync = promisify(execFile);

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const DEPLOY = path.join(ROOT, 'deploy');
/** Every server-side apply of these tests owns its fields under this name. */
export const FIELD_MANAGER = 'droidfarm-deploy-test';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

export interface RoleManifest extends Manifest {
  rules: PolicyRule[];
}

export interface BindingManifest extends Manifest {
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: Array<{ kind: string; name: string; namespace?: string; apiGroup?: string }>;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  [field: string]: unknown;
}

export interface DeploymentManifest extends Manifest {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; [field: string]: unknown } }; [field: string]: unknown };
}

let workDir: Promise<string> | undefined;
/** One temp folder per test file: kubectl's discovery cache, kubeconfigs, rendered lists. */
export function tempDir(): Promise<string> {
  workDir ??= fsp.mkdtemp(path.join(os.tmpdir(), 'droidfarm-deploy-test-'));
  return workDir;
}

export async function removeTempDir(): Promise<void> {
  if (workDir) await fsp.rm(await workDir, { recursive: true, force: true });
  workDir = undefined;
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
}

/** Runs the harness's kubectl as the admin (offline: with no cluster at all); rejects with kubectl's own stderr. */
export async function kubectl(args: string[], { offline = false } = {}): Promise<KubectlResult> {
  const info = clusterInfo();
  // A discovery cache of our own: ~/.kube/cache may hold another run's for the same port.
  const common = offline ? [] : [`--kubeconfig=${info.adminKubeconfig}`, `--cache-dir=${path.join(await tempDir(), 'kubectl-cache')}`];
  const env = offline ? { ...process.env, KUBECONFIG: path.join(await tempDir(), 'no-such-kubeconfig') } : process.env;
  try {
    const { stdout, stderr } = await execFileAsync(info.kubectl, [...common, ...args], { env, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 });
    return { stdout, stderr };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** `kubectl kustomize <dir>`: the YAML `kubectl apply -k <dir>` would send, built offline. */
export async function kustomize(dir: string): Promise<string> {
  return (await kubectl(['kustomize', path.resolve(ROOT, dir)], { offline: true })).stdout;
}

/**
 * The objects of `kubectl kustomize <dir>`, as plain JSON. kubectl converts the YAML (it
 * needs the API server's discovery for that; nothing is sent): client-node's loadAllYaml
 * would turn the objects into its model classes, renaming `default`, `from` and the
 * `x-kubernetes-*` keys on the way.
 */
export async function render(dir: string): Promise<Manifest[]> {
  const file = path.join(await tempDir(), `kustomize-${dir.replace(/[^a-z0-9]+/gi, '-')}-${Date.now()}.yaml`);
  await fsp.writeFile(file, await kustomize(dir));
  const { stdout } = await kubectl(['create', '--dry-run=client', '--validate=false', '-o', 'json', '-f', file]);
  // One indented JSON document per object, one after the other: only their own braces start a line.
  return JSON.parse(`[${stdout.trim().replace(/^}\n\{$/gm, '},\n{')}]`) as Manifest[];
}

export function find<T extends Manifest = Manifest>(objects: readonly Manifest[], kind: string, name?: string, namespace?: string): T[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name) && (namespace === undefined || o.metadata.namespace === namespace)) as T[];
}

export function one<T extends Manifest = Manifest>(objects: readonly Manifest[], kind: string, name?: string, namespace?: string): T {
  const found = find<T>(objects, kind, name, namespace);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}${namespace ? ` in ${namespace}` : ''}, found ${found.length}`);
  return found[0]!;
}

export function dashboardContainer(objects: readonly Manifest[]): Container {
  const deployment = one<DeploymentManifest>(objects, 'Deployment', 'droidfarm-dashboard');
  return deployment.spec.template.spec.containers.find((c) => c.name === 'dashboard')!;
}

export interface Relocation {
  /** Old namespace name → new one, for objects, Namespace objects, subjects and --namespace flags. */
  namespaces: Record<string, string>;
  /** Appended to the names of cluster-scoped RBAC objects (and to roleRefs that name them). */
  suffix: string;
}

/**
 * A copy of rendered manifests that can live beside the original install in the same API
 * server: other namespaces, other names for ClusterRoles and ClusterRoleBindings. The rules,
 * the Deployment and everything else stay exactly as rendered. CRDs are kept as they are.
 */
export function relocate(objects: readonly Manifest[], { namespaces, suffix }: Relocation): Manifest[] {
  const ns = (name: string | undefined) => (name !== undefined && namespaces[name] !== undefined ? namespaces[name] : name);
  return objects.map((original) => {
    const o = structuredClone(original) as Manifest & Partial<BindingManifest>;
    if (o.kind === 'Namespace') o.metadata.name = ns(o.metadata.name)!;
    if (o.metadata.namespace !== undefined) o.metadata.namespace = ns(o.metadata.namespace);
    if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') o.metadata.name += suffix;
    if (o.roleRef?.kind === 'ClusterRole') o.roleRef.name += suffix;
    for (const s of o.subjects ?? []) if (s.namespace !== undefined) s.namespace = ns(s.namespace);
    if (o.kind === 'Deployment') {
      for (const c of (o as unknown as DeploymentManifest).spec.template.spec.containers) {
        c.args = c.args?.map((a) => a.replace(/^--namespace=(.*)$/, (_all, name: string) => `--namespace=${ns(name)}`));
      }
    }
    return o;
  });
}

/** `kubectl apply --server-side` of a kustomization folder or of a list of manifests. */
export async function apply(source: { dir: string } | { objects: readonly Manifest[] }, { dryRun = false } = {}): Promise<KubectlResult> {
  let from: string[];
  if ('dir' in source) {
    from = ['-k', path.resolve(ROOT, source.dir)];
  } else {
    const file = path.join(await tempDir(), `apply-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
    await fsp.writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: source.objects }));
    from = ['-f', file];
  }
  return kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, ...(dryRun ? ['--dry-run=server'] : []), '-o', 'name', ...from]);
}

/** A kubeconfig file for a short-lived token of the ServiceAccount (TokenRequest API), as a pod would get. */
export async function serviceAccountKubeconfig(namespace: string, serviceAccount: string): Promise<{ path: string; kc: KubeConfig; user: string }> {
  const tokenRequest = await adminKubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespacedServiceAccountToken({ name: serviceAccount, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = tokenRequest.status?.token;
  if (!token) throw new Error(`no token for ServiceAccount ${namespace}/${serviceAccount}`);
  const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const kc = kubeConfigWithToken(user, token);
  const file = path.join(await tempDir(), `kubeconfig-${namespace}-${serviceAccount}.json`);
  await fsp.writeFile(file, kc.exportConfig(), { mode: 0o600 });
  return { path: file, kc, user };
}

export interface Permission {
  group: string;
  resource: string;
  verb: string;
}

export const permissionName = (p: Permission) => `${p.verb} ${p.resource}${p.group ? `.${p.group}` : ''}`;

/** Each (group, resource, verb) that rules grant, in rule order. */
export function permissionsOf(rules: readonly PolicyRule[]): Permission[] {
  return rules.flatMap((r) => (r.apiGroups ?? []).flatMap((group) => (r.resources ?? []).flatMap((resource) => r.verbs.map((verb) => ({ group, resource, verb })))));
}

/** Whether the API server's authorizer lets this kubeconfig's user do it (SelfSubjectAccessReview). */
export async function can(kc: KubeConfig, p: Permission, namespace?: string): Promise<boolean> {
  const [resource, subresource] = p.resource.split('/');
  const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: { spec: { resourceAttributes: { group: p.group, resource: resource!, ...(subresource ? { subresource } : {}), verb: p.verb, ...(namespace ? { namespace } : {}) } } },
  });
  return review.status?.allowed === true;
}

/**
 * Waits until the API server's RBAC cache grants exactly `granted` and refuses `refused`
 * (Roles and bindings reach the authorizer through its own watch, a moment after they were created).
 */
export async function waitForRbac(kc: KubeConfig, namespace: string | undefined, granted: readonly Permission[], refused: readonly Permission[] = []): Promise<void> {
  await waitFor(`RBAC to grant ${granted.map(permissionName).join(', ')}${refused.length ? ` and refuse ${refused.map(permissionName).join(', ')}` : ''}`, async () => {
    for (const p of granted) if (!(await can(kc, p, namespace))) throw new Error(`not yet allowed to ${permissionName(p)}`);
    for (const p of refused) if (await can(kc, p, namespace)) throw new Error(`still allowed to ${permissionName(p)}`);
    return true;
  });
}

/**
 * The config the rendered Deployment gives the dashboard: its container's args and env, with
 * a kubeconfig instead of the in-cluster token file (flags win over env, as in the pod).
 */
export function deployedConfig(container: Container, kubeconfig: string, extraArgs: string[] = []): Config {
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
  return loadConfig({ argv: [...(container.args ?? []), '--kubeconfig', kubeconfig, '--log-level', 'silent', ...extraArgs], env })!;
}

export async function startDeployedDashboard(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(config, options);
  await app.ready();
  return app;
}
