// One object as the apiserver holds it now, for "View YAML": read on demand, never cached,
// never kept in the store (which holds slim views only). Read with a list narrowed to the
// name by a field selector, so the dashboard needs no `get` permission beyond its watches'
// `list`, and a read-only install can show it too. managedFields are left out: they are
// the apiserver's bookkeeping and make up most of an object's bytes.
import type { ResourceName } from './resources.js';
import type { Cluster, KubeObject } from './types.js';

export async function fetchRaw(cluster: Cluster, resource: ResourceName, namespace: string, name: string): Promise<KubeObject | undefined> {
  const { items } = await cluster.list(resource, namespace, { fieldSelector: `metadata.name=${name}` });
  const found = items.find((o) => o.metadata.name === name);
  return found && withoutManagedFields(found);
}

/** The object without metadata.managedFields; the input is not changed. */
export function withoutManagedFields(o: KubeObject): KubeObject {
  const { managedFields: _dropped, ...metadata } = o.metadata;
  return { ...o, metadata };
}
