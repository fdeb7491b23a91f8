// What `npm run simulate` sets up on a real cluster before it plays the operator: the
// example DeviceTemplates and N DevicePools of M devices, each created only if missing
// (existing ones are left as they are); and what a person can do when the cluster refuses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { ClusterError } from '../kube/errors.js';
import type { Cluster, NewKubeObject } from '../kube/types.js';

const EXAMPLE_TEMPLATES = join(import.meta.dirname, '..', '..', 'deploy', 'examples', 'devicetemplates.yaml');

export interface FarmSize {
  pools: number;
  devices: number;
}

function exampleTemplates(): NewKubeObject[] {
  const docs = loadAllYaml(readFileSync(EXAMPLE_TEMPLATES, 'utf8')) as Array<{ apiVersion: string; kind: string; metadata: { name: string }; spec: unknown }>;
  return docs.map((d) => ({ apiVersion: d.apiVersion, kind: d.kind, metadata: { name: d.metadata.name }, spec: d.spec }));
}

/** Creates what is missing; says what it did. Existing objects are never changed. */
export async function ensureFarm(cluster: Cluster, namespace: string, size: FarmSize, say: (line: string) => void): Promise<void> {
  const templates = exampleTemplates();
  const created: string[] = [];
  const existing: string[] = [];
  const ensure = async (resource: 'templates' | 'pools', object: NewKubeObject, label: string) => {
    try {
      await cluster.create(resource, namespace, object);
      created.push(label);
    } catch (err) {
      if (err instanceof ClusterError && err.status === 409) existing.push(label);
      else throw err;
    }
  };
  for (const t of templates) await ensure('templates', t, `DeviceTemplate ${t.metadata.name}`);
  for (let i = 1; i <= size.pools; i++) {
    const name = `sim-${i}`;
    await ensure(
      'pools',
      {
        apiVersion: 'droidfarm.io/v1alpha1',
        kind: 'DevicePool',
        metadata: { name, labels: { 'droidfarm.io/simulated': 'true' } },
        spec: { templateRef: { name: templates[(i - 1) % templates.length]!.metadata.name! }, replicas: size.devices },
      },
      `DevicePool ${name}`,
    );
  }
  if (created.length) say(`created ${created.join(', ')}`);
  if (existing.length) say(`already there, left as they are: ${existing.join(', ')}`);
}

/** What a person can do about a failure talking to the cluster. */
export function explain(err: unknown, namespace: string): string {
  if (!(err instanceof ClusterError)) return err instanceof Error ? err.message : String(err);
  if (err.status === 404 && err.message.includes('namespaces')) return `namespace ${namespace} does not exist: create it (kubectl create namespace ${namespace}) or pass --namespace.`;
  if (err.status === 404) return `the DroidFarm CRDs are not installed on this cluster: kubectl apply -k deploy/crds (${err.message})`;
  if (err.status === 401 || err.status === 403) return `the cluster refused the credentials or their permissions (${err.status}): ${err.message}`;
  return err.message;
}
