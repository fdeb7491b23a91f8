// Chooses the cluster the dashboard talks to from the configuration.
import type { Config } from '../config.js';
import { KubeCluster, loadKubeConfig } from './kube-cluster.js';
import type { Cluster } from './types.js';

export function connectCluster(config: Config): Cluster {
  switch (config.cluster.mode) {
    case 'kubeconfig':
      return new KubeCluster(loadKubeConfig({ kubeconfig: config.cluster.kubeconfig, context: config.cluster.context }));
    case 'in-cluster':
      return new KubeCluster(loadKubeConfig({ inCluster: true }));
    case 'demo':
      throw new Error('the embedded demo cluster is created by the demo module, not here');
  }
}
