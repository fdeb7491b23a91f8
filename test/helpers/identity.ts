// The farm of issue 12's tests: two teams' namespaces with a pool each, people with
// different RoleBindings (alice edits sessions in team-a and reads team-b, bob only reads
// team-b, the group qa-leads may stop sessions in team-b), and deploy/overlays/oauth2-proxy
// installed beside the other installs, with a token of its ServiceAccount.
import { RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { adminKubeConfig, freshNamespace, kubeConfigFor } from './cluster.js';
import { apply, relocate, render, serviceAccountKubeconfig, waitForRbac, type Manifest } from './deploy.js';
import { createPool, createTemplate, devices, setDevices } from './farm.js';

const rbac = () => adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);

export async function bind(namespace: string, name: string, rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>, subjects: Array<{ kind: 'User' | 'Group'; name: string }>): Promise<void> {
  await rbac().createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac().createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: subjects.map((s) => ({ ...s, apiGroup: 'rbac.authorization.k8s.io' })),
    },
  });
}

export const READ = [
  { apiGroups: ['droidfarm.io'], resources: ['devicetemplates', 'devicepools', 'testsessions'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
];
export const EDIT = [...READ, { apiGroups: ['droidfarm.io'], resources: ['testsessions'], verbs: ['create', 'patch', 'delete'] }];

export interface IdentityFarm {
  teamA: string;
  teamB: string;
  system: string;
  objects: Manifest[];
  sa: { path: string; kc: KubeConfig; user: string };
}

/** Both teams' namespaces with a pool each, the RBAC above, and the overlay installed beside the others. */
export async function identityFarm(prefix: string): Promise<IdentityFarm> {
  const [teamA, teamB, system] = await Promise.all([freshNamespace(`${prefix}-team-a`), freshNamespace(`${prefix}-team-b`), freshNamespace(`${prefix}-system`)]);
  const objects = relocate(await render('deploy/overlays/oauth2-proxy'), { namespaces: { 'droidfarm-system': system }, suffix: `-${system}` });
  await apply({ objects });
  for (const ns of [teamA, teamB]) {
    await createTemplate(ns);
    await createPool(ns, 'alpha', 2);
    await setDevices(ns, 'alpha', devices('alpha', 2));
  }
  await bind(teamA, 'session-editor', EDIT, [{ kind: 'User', name: 'alice' }]);
  await bind(teamB, 'reader', READ, [{ kind: 'User', name: 'alice' }, { kind: 'User', name: 'bob' }]);
  await bind(teamB, 'stopper', [{ apiGroups: ['droidfarm.io'], resources: ['testsessions'], verbs: ['get', 'patch'] }], [{ kind: 'Group', name: 'qa-leads' }]);
  const sa = await serviceAccountKubeconfig(system, 'droidfarm-dashboard');
  const session = (verb: string) => ({ group: 'droidfarm.io', resource: 'testsessions', verb });
  await waitForRbac(sa.kc, teamA, [session('list'), session('watch')], [session('create'), session('patch'), session('delete')]);
  await waitForRbac(kubeConfigFor('alice'), teamA, [session('delete')]);
  await waitForRbac(kubeConfigFor('bob'), teamB, [session('list')], [session('create')]);
  return { teamA, teamB, system, objects, sa };
}

