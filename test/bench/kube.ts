// The project's test control plane (etcd + kube-apiserver, test/cluster/control-plane.ts)
// for the benches that run the dashboard against a real apiserver, with the watch cache on
// as real clusters run it. `fresh()` gives each run an empty bench namespace.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import { runProvisionScript } from '../cluster/provision.js';
import { NAMESPACE } from './farm.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

export interface BenchControlPlane extends ControlPlane {
  /** The bench namespace, empty of farm objects (no namespace controller runs here to delete a namespace). */
  fresh(): Promise<void>;
}

export async function startBenchControlPlane(log: (line: string) => void): Promise<BenchControlPlane> {
  const provisioned = await runProvisionScript('provision-control-plane.sh');
  const binaries = { etcd: provisioned.get('ETCD'), kubeApiserver: provisioned.get('KUBE_APISERVER'), kubectl: provisioned.get('KUBECTL'), kwok: provisioned.get('KWOK') };
  const cp = await startControlPlane({ binaries, crdDirs: [join(ROOT, 'deploy/crds')], watchCache: true, log: (m) => log(`  ${m}`) });
  const kubectl = (args: string[]) => run(cp.kubectl, ['--kubeconfig', cp.adminKubeconfig, ...args], { env: { ...process.env, HOME: cp.dir } });
  return Object.assign(cp, {
    fresh: async () => {
      await kubectl(['create', 'namespace', NAMESPACE]).catch(() => undefined); // there already
      await kubectl(['delete', 'testsessions,devicepools,devicetemplates', '--all', '-n', NAMESPACE, '--wait=true']);
    },
  });
}
