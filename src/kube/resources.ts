// The resource kinds the dashboard reads and writes, and where they live in the API.
// Everything else addresses them by these short names.

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const RESOURCES = {
  templates: { group: 'droidfarm.io', version: 'v1alpha1', plural: 'devicetemplates', kind: 'DeviceTemplate' },
  pools: { group: 'droidfarm.io', version: 'v1alpha1', plural: 'devicepools', kind: 'DevicePool' },
  sessions: { group: 'droidfarm.io', version: 'v1alpha1', plural: 'testsessions', kind: 'TestSession' },
  events: { group: '', version: 'v1', plural: 'events', kind: 'Event' },
  pods: { group: '', version: 'v1', plural: 'pods', kind: 'Pod' },
} as const satisfies Record<string, ResourceType>;

export type ResourceName = keyof typeof RESOURCES;

/**
 * The Events the pages show, by involvedObject.kind: one watch each, since a field selector
 * cannot say "this kind or that". DeviceTemplate Events are shown nowhere; Pod Events are
 * further narrowed to runner pods in sync.ts.
 */
export const EVENT_KINDS = ['TestSession', 'DevicePool', 'Pod'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const eventFieldSelector = (kind: EventKind): string => `involvedObject.kind=${kind}`;

/** The kinds kept in the store through one shared watch each (Events: one per EVENT_KINDS). */
export const WATCHED: readonly ResourceName[] = ['templates', 'pools', 'sessions', 'events'];

export function apiVersionOf(resource: ResourceName): string {
  const r = RESOURCES[resource];
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The REST path of a collection or an object, optionally of a subresource. */
export function resourcePath(resource: ResourceName, namespace?: string, name?: string, subresource?: string): string {
  const r = RESOURCES[resource];
  let path = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${r.plural}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}
