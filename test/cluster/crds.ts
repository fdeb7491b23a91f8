// Custom resource definitions on the test control plane: applying the project's manifests as
// a user would (kubectl apply --server-side, -k for a kustomization) and waiting until each
// CRD is Established and served.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { HttpResult } from './transport.js';
import { FatalWaitError, waitFor } from './wait.js';

const execFileAsync = promisify(execFile);

/** A request to the apiserver as the admin. */
export type AdminApi = (method: string, path: string, body?: unknown) => Promise<HttpResult>;

interface CRD {
  spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

/** Waits until a CRD is Established and each served version is in discovery. */
export async function waitForCRD(api: AdminApi, name: string): Promise<void> {
  const crd = await waitFor(
    `CRD ${name} to be Established`,
    async () => {
      const res = await api('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      if (res.status !== 200) throw new Error(`GET CRD ${name}: ${res.status} ${res.body.slice(0, 500)}`);
      const obj = JSON.parse(res.body) as CRD;
      const cond = (t: string) => obj.status?.conditions?.find((c) => c.type === t);
      if (cond('NamesAccepted')?.status === 'False') {
        throw new FatalWaitError(new Error(`CRD ${name}: names not accepted: ${cond('NamesAccepted')?.message}`));
      }
      return cond('Established')?.status === 'True' ? obj : false;
    },
    { timeoutMs: 30_000 },
  );
  for (const v of crd.spec.versions.filter((x) => x.served)) {
    const gv = `${crd.spec.group}/${v.name}`;
    await waitFor(
      `${crd.spec.names.plural} to be served in discovery under /apis/${gv}`,
      async () => {
        const res = await api('GET', `/apis/${gv}`);
        if (res.status !== 200) return false;
        return (JSON.parse(res.body) as { resources: { name: string }[] }).resources.some((r) => r.name === crd.spec.names.plural);
      },
      { timeoutMs: 30_000 },
    );
  }
}

/** Applies each folder of manifests with `kubectl apply --server-side` and waits for its CRDs. */
export async function applyManifests(api: AdminApi, o: { kubectl: string; adminKubeconfig: string; dir: string; crdDirs: string[]; log: (message: string) => void }): Promise<void> {
  const { kubectl, adminKubeconfig, dir, crdDirs, log } = o;
  const started = performance.now();
  const dirs = crdDirs.filter((d) => {
    try {
      return fs.readdirSync(d).some((f) => /\.(ya?ml|json)$/.test(f));
    } catch {
      return false;
    }
  });
  for (const d of crdDirs.filter((x) => !dirs.includes(x))) log(`no manifests in ${d}; nothing applied from there`);
  if (dirs.length === 0) return;
  let stdout = '';
  for (const d of dirs) {
    // A folder with a kustomization file is applied as a kustomization (-k), as a user would.
    const isKustomization = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].some((f) => fs.existsSync(path.join(d, f)));
    const source = isKustomization ? ['-k', d] : ['-f', d];
    try {
      const res = await execFileAsync(
        kubectl,
        [
          'apply',
          '--server-side',
          '--field-manager=droidfarm-test-harness',
          '-o',
          'name',
          `--kubeconfig=${adminKubeconfig}`,
          // a discovery cache of its own: ~/.kube/cache may hold another run's on the same port
          `--cache-dir=${path.join(dir, 'kubectl-cache')}`,
          ...source,
        ],
        { timeout: 60_000 },
      );
      stdout += res.stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`kubectl apply --server-side ${source.join(' ')} failed; fix the manifests:\n${e.stderr?.trim() || e.message}`);
    }
  }
  const crdNames = stdout
    .split('\n')
    .filter((l) => l.startsWith('customresourcedefinition.apiextensions.k8s.io/'))
    .map((l) => l.slice(l.indexOf('/') + 1).trim());
  await Promise.all(crdNames.map((name) => waitForCRD(api, name)));
  log(`applied ${dirs.join(', ')} (${crdNames.length} CRDs established and served) in ${Math.round(performance.now() - started)} ms`);
}
