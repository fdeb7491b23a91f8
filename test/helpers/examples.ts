// The example manifests of deploy/examples/ in a test namespace: the DeviceTemplates and the
// DevicePools, each pool with the status block the example carries (as the operator would
// write it), so the dashboard has devices in every state to show.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, loadAllYaml } from '@kubernetes/client-node';
import { adminKubeConfig } from './cluster.js';

const root = join(import.meta.dirname, '..', '..');

/** Creates deploy/examples/devicetemplates.yaml and devicepools.yaml (with status) in `namespace`. */
export async function createExamplePools(namespace: string): Promise<void> {
  const api = adminKubeConfig().makeApiClient(CustomObjectsApi);
  const docs = [
    ...loadAllYaml(readFileSync(join(root, 'deploy/examples/devicetemplates.yaml'), 'utf8')),
    ...loadAllYaml(readFileSync(join(root, 'deploy/examples/devicepools.yaml'), 'utf8')),
  ] as Array<{ kind: string; metadata: { name: string; namespace?: string }; status?: unknown }>;
  for (const doc of docs) {
    const plural = doc.kind === 'DeviceTemplate' ? 'devicetemplates' : 'devicepools';
    const { status, ...body } = doc;
    body.metadata = { ...body.metadata, namespace };
    await api.createNamespacedCustomObject({ group: 'droidfarm.io', version: 'v1alpha1', namespace, plural, body });
    if (status) {
      await api.replaceNamespacedCustomObjectStatus({
        group: 'droidfarm.io',
        version: 'v1alpha1',
        namespace,
        plural,
        name: body.metadata.name,
        body: { ...(await api.getNamespacedCustomObject({ group: 'droidfarm.io', version: 'v1alpha1', namespace, plural, name: body.metadata.name })), status },
      });
    }
  }
}

/** Names of the example DevicePools, in file order. */
export function examplePoolNames(): string[] {
  const docs = loadAllYaml(readFileSync(join(root, 'deploy/examples/devicepools.yaml'), 'utf8')) as Array<{ kind: string; metadata: { name: string } }>;
  return docs.filter((d) => d.kind === 'DevicePool').map((d) => d.metadata.name);
}
