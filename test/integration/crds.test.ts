// The CRDs in deploy/crds/ against the real kube-apiserver: every example in
// deploy/examples/ is accepted and stored exactly as sent (nothing pruned, defaults
// applied), invalid objects are refused with the apiserver's own schema messages, and
// `kubectl get dp,ts` prints the columns the CRDs promise.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  ApiException,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  loadAllYaml,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshNamespace } from '../helpers/cluster.js';
import { checkSessionSpec } from '../../src/farm/session-spec.js';

const run = promisify(execFile);
const cluster = inject('cluster');

const GROUP = 'droidfarm.io';
const VERSION = 'v1alpha1';
const PLURALS = {
  DeviceTemplate: 'devicetemplates',
  DevicePool: 'devicepools',
  TestSession: 'testsessions',
} as const;
type Kind = keyof typeof PLURALS;

const root = fileURLToPath(new URL('../../', import.meta.url));
const examplesDir = join(root, 'deploy', 'examples');
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

// Plain JSON objects: what the apiserver sends back, so toEqual compares like with like.
type Json = Record<string, any>;
interface Manifest extends Json {
  apiVersion: string;
  kind: Kind;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Json;
  status?: Json;
}

let api: CustomObjectsApi;

beforeAll(() => {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.adminKubeconfig);
  api = kc.makeApiClient(CustomObjectsApi);
});

afterAll(async () => {
  if (kubectlCache) await rm(await kubectlCache, { recursive: true, force: true });
});

async function loadExamples(): Promise<{ file: string; manifests: Manifest[] }[]> {
  const files = (await readdir(examplesDir))
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort();
  return Promise.all(
    files.map(async (file) => {
      const docs = loadAllYaml(await readFile(join(examplesDir, file), 'utf8'));
      return { file, manifests: docs.map((d) => JSON.parse(JSON.stringify(d)) as Manifest) };
    }),
  );
}

function plural(kind: string): string {
  const p = PLURALS[kind as Kind];
  if (!p) throw new Error(`not a DroidFarm kind: ${kind}`);
  return p;
}

function create(namespace: string, body: Json, fieldValidation?: string): Promise<Json> {
  return api.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: plural(body.kind),
    body,
    fieldValidation,
  });
}

function patchStatus(namespace: string, kind: string, name: string, status: Json): Promise<Json> {
  return api.patchNamespacedCustomObjectStatus(
    { group: GROUP, version: VERSION, namespace, plural: plural(kind), name, body: { status } },
    mergePatch,
  );
}

function get(namespace: string, kind: string, name: string): Promise<Json> {
  return api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: plural(kind), name });
}

// The apiserver's refusal: HTTP code and its Status message.
async function refusal(request: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await request;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
    return { code: err.code, message: String(body?.message ?? '') };
  }
  throw new Error('the apiserver accepted an object it should have refused');
}

// kubectl as the admin, with its own discovery cache: a cache left by an earlier run
// against another apiserver on the same port could lack the droidfarm.io resources.
let kubectlCache: Promise<string> | undefined;
async function kubectl(...args: string[]): Promise<string> {
  kubectlCache ??= mkdtemp(join(tmpdir(), 'kubectl-cache-'));
  const common = ['--kubeconfig', cluster.adminKubeconfig, '--cache-dir', await kubectlCache];
  const { stdout } = await run(cluster.kubectl, [...common, ...args], { timeout: 20_000 });
  return stdout;
}

// What the apiserver is expected to store for a manifest's spec: the spec plus the
// schema's defaults for the fields the manifest leaves out.
function withSpecDefaults(kind: Kind, spec: Json): Json {
  if (kind === 'DevicePool') return { replicas: 1, ...spec };
  if (kind === 'TestSession') return { timeoutSeconds: 1800, cancelRequested: false, ...spec };
  return spec;
}

describe('deploy/examples', () => {
  let ns: string;
  let examples: Manifest[];
  const created = new Map<string, Json>();

  // Apply every example the way `kubectl apply` does (status included, so the status
  // subresource must drop it), then write each status block as-is through /status.
  beforeAll(async () => {
    ns = await freshNamespace('crds-examples');
    examples = (await loadExamples()).flatMap((f) => f.manifests);
    for (const m of examples) {
      created.set(`${m.kind}/${m.metadata.name}`, await create(ns, m));
      if (m.status) await patchStatus(ns, m.kind, m.metadata.name, m.status);
    }
  });

  it('covers every kind, the session phases the dashboard shows, and is listed in kustomization.yaml', async () => {
    const files = await loadExamples();
    const kustomization = await readFile(join(examplesDir, 'kustomization.yaml'), 'utf8');
    for (const { file } of files) expect(kustomization).toContain(`- ${file}`);

    expect(new Set(examples.map((m) => m.kind))).toEqual(new Set(Object.keys(PLURALS)));
    expect(examples.filter((m) => m.kind === 'DevicePool').every((m) => m.status?.devices?.length)).toBe(true);
    const phases = examples.filter((m) => m.kind === 'TestSession').map((m) => m.status?.phase);
    expect(phases).toEqual(expect.arrayContaining(['Pending', 'Running', 'Succeeded', 'Failed']));
  });

  it('drops status on create (status subresource is enabled)', () => {
    for (const m of examples.filter((m) => m.status)) {
      expect(created.get(`${m.kind}/${m.metadata.name}`)?.status, `${m.kind}/${m.metadata.name}`).toBeUndefined();
    }
  });

  it('stores every spec and status exactly as sent, nothing pruned', async () => {
    for (const m of examples) {
      const stored = await get(ns, m.kind, m.metadata.name);
      const what = `${m.kind}/${m.metadata.name}`;
      expect(stored.metadata.labels, what).toEqual(m.metadata.labels);
      expect(stored.spec, what).toEqual(withSpecDefaults(m.kind, m.spec));
      expect(stored.status, what).toEqual(m.status);
    }
  });

  it('applies the schema defaults', async () => {
    const withoutTimeout = examples.find((m) => m.kind === 'TestSession' && m.spec.timeoutSeconds === undefined);
    expect(withoutTimeout, 'an example TestSession without timeoutSeconds').toBeDefined();
    const session = await get(ns, 'TestSession', withoutTimeout!.metadata.name);
    expect(session.spec.timeoutSeconds).toBe(1800);
    expect(session.spec.cancelRequested).toBe(false);

    const pool = await create(ns, {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'DevicePool',
      metadata: { name: 'defaults' },
      spec: { templateRef: { name: 'pixel-6-android-14' } },
    });
    expect(pool.spec.replicas).toBe(1);
    const patched = await patchStatus(ns, 'DevicePool', 'defaults', { counts: { idle: 1 } });
    expect(patched.status.counts).toEqual({ booting: 0, idle: 1, busy: 0, unhealthy: 0 });
  });

  it('selects sessions by phase and pool with field selectors', async () => {
    const list = (fieldSelector: string) =>
      api
        .listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'testsessions', fieldSelector })
        .then((l: Json) => l.items.map((i: Json) => i.metadata.name).sort());
    const expected = (pred: (m: Manifest) => boolean) =>
      examples.filter((m) => m.kind === 'TestSession' && pred(m)).map((m) => m.metadata.name).sort();

    const running = await list('status.phase=Running');
    expect(running.length).toBeGreaterThan(0);
    expect(running).toEqual(expected((m) => m.status?.phase === 'Running'));
    expect(await list('spec.poolRef.name=smoke')).toEqual(expected((m) => m.spec.poolRef.name === 'smoke'));
  });

  it('scales a pool through the scale subresource', async () => {
    const scale: Json = await api.getNamespacedCustomObjectScale({
      group: GROUP, version: VERSION, namespace: ns, plural: 'devicepools', name: 'smoke',
    });
    const smoke = examples.find((m) => m.kind === 'DevicePool' && m.metadata.name === 'smoke')!;
    expect(scale.spec.replicas).toBe(smoke.spec.replicas);
    expect(scale.status.replicas).toBe(smoke.status!.replicas);

    await kubectl('scale', '-n', ns, 'devicepool/defaults', '--replicas=7');
    expect((await get(ns, 'DevicePool', 'defaults')).spec.replicas).toBe(7);

    const tooMany = await refusal(
      api.patchNamespacedCustomObjectScale(
        { group: GROUP, version: VERSION, namespace: ns, plural: 'devicepools', name: 'defaults', body: { spec: { replicas: 501 } } },
        mergePatch,
      ),
    );
    expect(tooMany.code).toBe(422);
    expect(tooMany.message).toContain('spec.replicas');
  });

  it('makes `kubectl get dp,ts` show the printer columns', async () => {
    const out = await kubectl('get', 'dp,ts', '-n', ns);
    expect(out).toMatch(/^NAME\s+TEMPLATE\s+REPLICAS\s+IDLE\s+BUSY\s+BOOTING\s+UNHEALTHY\s+AGE$/m);
    expect(out).toMatch(/^NAME\s+POOL\s+PHASE\s+DEVICE\s+DONE\s+TOTAL\s+PASSED\s+FAILED\s+AGE$/m);
    // smoke: 4 replicas; 2 idle, 1 busy, 1 booting, 0 unhealthy.
    expect(out).toMatch(/^devicepool\.droidfarm\.io\/smoke\s+pixel-6-android-14\s+4\s+2\s+1\s+1\s+0\s+\S+$/m);
    // checkout-flow: running on smoke-1, 12 of 40 done, 11 passed, 1 failed.
    expect(out).toMatch(/^testsession\.droidfarm\.io\/checkout-flow\s+smoke\s+Running\s+smoke-1\s+12\s+40\s+11\s+1\s+\S+$/m);
  });

  it('makes `kubectl get ts -o wide` add reason and pod, and `kubectl get droidfarm` list every kind', async () => {
    const wide = await kubectl('get', 'ts', '-n', ns, '-o', 'wide');
    expect(wide).toMatch(/^NAME\s+POOL\s+PHASE\s+DEVICE\s+DONE\s+TOTAL\s+PASSED\s+FAILED\s+AGE\s+REASON\s+POD$/m);
    expect(wide).toMatch(/^payments-regression\s+regression\s+Failed\s+regression-2\s+52\s+52\s+49\s+3\s+\S+\s+TestsFailed\s+payments-regression-runner$/m);

    const all = await kubectl('get', 'droidfarm', '-n', ns);
    expect(all).toMatch(/^NAME\s+ANDROID\s+PROFILE\s+BACKEND\s+AGE$/m);
    for (const m of examples) expect(all).toContain(`${m.kind.toLowerCase()}.droidfarm.io/${m.metadata.name} `);
  });
});

describe('schema validation', () => {
  let ns: string;
  let valid: Record<Kind, Manifest>;
  let serial = 0;

  beforeAll(async () => {
    ns = await freshNamespace('crds-invalid');
    const all = (await loadExamples()).flatMap((f) => f.manifests);
    const pick = (kind: Kind, name: string) => all.find((m) => m.kind === kind && m.metadata.name === name)!;
    valid = {
      DeviceTemplate: pick('DeviceTemplate', 'pixel-6-android-14'),
      DevicePool: pick('DevicePool', 'smoke'),
      TestSession: pick('TestSession', 'login-smoke'),
    };
  });

  // A valid example under a fresh name, without status, changed by `change`.
  function variant(kind: Kind, change: (m: Manifest) => void = () => {}): Manifest {
    const m: Manifest = structuredClone(valid[kind]);
    m.metadata = { name: `${kind.toLowerCase()}-${++serial}` };
    delete m.status;
    change(m);
    return m;
  }

  const specCases: { what: string; kind: Kind; change: (m: Manifest) => void; field: string; detail: string }[] = [
    { what: 'androidVersion "12"', kind: 'DeviceTemplate', change: (m) => (m.spec.androidVersion = '12'), field: 'spec.androidVersion', detail: 'Unsupported value: "12"' },
    { what: 'androidVersion as a number', kind: 'DeviceTemplate', change: (m) => (m.spec.androidVersion = 14), field: 'spec.androidVersion', detail: 'must be of type string' },
    { what: 'an unknown emulationBackend', kind: 'DeviceTemplate', change: (m) => (m.spec.emulationBackend = 'goldfish'), field: 'spec.emulationBackend', detail: 'Unsupported value: "goldfish"' },
    { what: 'an avdProfile with spaces', kind: 'DeviceTemplate', change: (m) => (m.spec.avdProfile = 'Pixel 6'), field: 'spec.avdProfile', detail: 'should match' },
    { what: 'an http apkSource.url', kind: 'DeviceTemplate', change: (m) => (m.spec.appConfig[0].apkSource.url = 'http://artifacts.example.com/shop.apk'), field: 'spec.appConfig[0].apkSource.url', detail: 'should match' },
    { what: 'a package name that is not a Java package', kind: 'DeviceTemplate', change: (m) => (m.spec.appConfig[0].packageName = 'shop'), field: 'spec.appConfig[0].packageName', detail: 'should match' },
    { what: 'a memory that is not a quantity', kind: 'DeviceTemplate', change: (m) => (m.spec.resources.memory = 'lots'), field: 'spec.resources.memory', detail: 'should match' },
    { what: 'a missing templateRef', kind: 'DevicePool', change: (m) => delete m.spec.templateRef, field: 'spec.templateRef', detail: 'Required value' },
    { what: 'replicas 501', kind: 'DevicePool', change: (m) => (m.spec.replicas = 501), field: 'spec.replicas', detail: 'less than or equal to 500' },
    { what: 'replicas -1', kind: 'DevicePool', change: (m) => (m.spec.replicas = -1), field: 'spec.replicas', detail: 'greater than or equal to 0' },
    { what: 'a templateRef name that is not a DNS-1123 name', kind: 'DevicePool', change: (m) => (m.spec.templateRef.name = 'Pixel_6'), field: 'spec.templateRef.name', detail: 'should match' },
    { what: 'a missing poolRef', kind: 'TestSession', change: (m) => delete m.spec.poolRef, field: 'spec.poolRef', detail: 'Required value' },
    { what: 'timeoutSeconds 59', kind: 'TestSession', change: (m) => (m.spec.timeoutSeconds = 59), field: 'spec.timeoutSeconds', detail: 'greater than or equal to 60' },
    { what: 'timeoutSeconds 86401', kind: 'TestSession', change: (m) => (m.spec.timeoutSeconds = 86401), field: 'spec.timeoutSeconds', detail: 'less than or equal to 86400' },
    { what: 'an http apkURL', kind: 'TestSession', change: (m) => (m.spec.apps[0].apkURL = 'http://artifacts.example.com/shop.apk'), field: 'spec.apps[0].apkURL', detail: 'should match' },
    { what: 'the same app twice', kind: 'TestSession', change: (m) => m.spec.apps.push(m.spec.apps[0]), field: 'spec.apps[1]', detail: 'Duplicate value' },
    { what: 'a runner without image', kind: 'TestSession', change: (m) => delete m.spec.runner.image, field: 'spec.runner.image', detail: 'Required value' },
    { what: '21 apps', kind: 'TestSession', change: (m) => (m.spec.apps = Array.from({ length: 21 }, (_, i) => ({ packageName: `com.example.app${i}`, apkURL: `https://a.example.com/${i}.apk` }))), field: 'spec.apps', detail: 'must have at most 20 items' },
  ];

  it.each(specCases)('refuses a $kind with $what', async ({ kind, change, field, detail }) => {
    const manifest = variant(kind, change);
    const { code, message } = await refusal(create(ns, manifest));
    expect(code).toBe(422);
    expect(message).toContain(`${field}:`);
    expect(message).toContain(detail);
    if (kind === 'TestSession') {
      // The dashboard's own check (from the CRD's schema) refuses the same field before asking.
      const ours = field.replace(/^spec\./, '').replace(/^poolRef(\.name)?/, 'pool');
      expect(checkSessionSpec(manifest.spec).map((c) => c.field), 'the dashboard\'s check').toContainEqual(expect.stringMatching(new RegExp(`^${ours.replace(/[.[\]]/g, '\\$&')}`)));
    }
  });

  it('accepts, in the dashboard\'s own check, the example TestSession the apiserver accepts', () => {
    expect(checkSessionSpec(variant('TestSession').spec)).toEqual([]);
  });

  const statusCases: { what: string; kind: Kind; status: Json; field: string; detail: string }[] = [
    { what: 'device state "Sleeping"', kind: 'DevicePool', status: { devices: [{ name: 'smoke-0', state: 'Sleeping' }] }, field: 'status.devices[0].state', detail: 'Unsupported value: "Sleeping"' },
    { what: 'a device without state', kind: 'DevicePool', status: { devices: [{ name: 'smoke-0' }] }, field: 'status.devices[0].state', detail: 'Required value' },
    { what: 'two devices with one name', kind: 'DevicePool', status: { devices: [{ name: 'smoke-0', state: 'Idle' }, { name: 'smoke-0', state: 'Busy' }] }, field: 'status.devices[1]', detail: 'Duplicate value' },
    { what: 'a negative count', kind: 'DevicePool', status: { counts: { idle: -1 } }, field: 'status.counts.idle', detail: 'greater than or equal to 0' },
    { what: 'a heartbeat that is not a date-time', kind: 'DevicePool', status: { devices: [{ name: 'smoke-0', state: 'Idle', lastHeartbeatTime: 'yesterday' }] }, field: 'status.devices[0].lastHeartbeatTime', detail: 'date-time' },
    { what: 'a condition status "Yes"', kind: 'DevicePool', status: { conditions: [{ type: 'Ready', status: 'Yes', lastTransitionTime: '2026-11-23T10:00:00Z', reason: 'DevicesAvailable', message: '' }] }, field: 'status.conditions[0].status', detail: 'Unsupported value: "Yes"' },
    { what: 'phase "Done"', kind: 'TestSession', status: { phase: 'Done' }, field: 'status.phase', detail: 'Unsupported value: "Done"' },
    { what: 'an artifact kind "movie"', kind: 'TestSession', status: { artifacts: [{ name: 'a.mp4', kind: 'movie', url: 'https://a.example.com/a.mp4' }] }, field: 'status.artifacts[0].kind', detail: 'Unsupported value: "movie"' },
    { what: 'a negative artifact size', kind: 'TestSession', status: { artifacts: [{ name: 'a.mp4', kind: 'video', url: 'https://a.example.com/a.mp4', sizeBytes: -1 }] }, field: 'status.artifacts[0].sizeBytes', detail: 'greater than or equal to 0' },
    { what: 'negative progress', kind: 'TestSession', status: { progress: { completed: -3 } }, field: 'status.progress.completed', detail: 'greater than or equal to 0' },
    { what: 'a reason with spaces', kind: 'TestSession', status: { phase: 'Failed', reason: 'tests failed' }, field: 'status.reason', detail: 'should match' },
  ];

  it.each(statusCases)('refuses a $kind status with $what', async ({ kind, status, field, detail }) => {
    const m = variant(kind);
    await create(ns, m);
    const { code, message } = await refusal(patchStatus(ns, kind, m.metadata.name, status));
    expect(code).toBe(422);
    expect(message).toContain(`${field}:`);
    expect(message).toContain(detail);
  });

  it('prunes unknown fields by default and refuses them with fieldValidation=Strict', async () => {
    const pruned = variant('TestSession', (m) => {
      m.spec.priority = 'high';
      m.spec.runner.gpu = true;
    });
    await create(ns, pruned);
    const stored = await get(ns, 'TestSession', pruned.metadata.name);
    expect(stored.spec).not.toHaveProperty('priority');
    expect(stored.spec.runner).not.toHaveProperty('gpu');
    expect(stored.spec.runner.image).toBe(valid.TestSession.spec.runner.image);

    const strict = await refusal(create(ns, variant('TestSession', (m) => (m.spec.priority = 'high')), 'Strict'));
    expect(strict.code).toBe(400);
    expect(strict.message).toContain('unknown field "spec.priority"');
  });
});
