// What the apiserver does to objects that the in-memory cluster must do the same way:
// field selectors, write preconditions (409 Conflict with the apiserver's words) and
// JSON merge patches.
import { ClusterError } from './errors.js';
import { RESOURCES, type ResourceName } from './resources.js';
import type { KubeObject, Preconditions } from './types.js';

/**
 * A field selector as the apiserver evaluates it: `path=value` / `path==value` /
 * `path!=value` terms joined by commas, all of which must hold; paths are dotted
 * (involvedObject.kind, metadata.name). Like the apiserver, a missing field is "".
 */
export function fieldMatcher(selector: string | undefined): (o: KubeObject) => boolean {
  if (!selector) return () => true;
  const terms = selector.split(',').map((term) => {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term.trim());
    if (!m) throw new ClusterError(400, 'BadRequest', `invalid field selector term ${JSON.stringify(term)}`);
    return { path: m[1]!.split('.'), negate: m[2] === '!=', value: m[3]! };
  });
  return (o) =>
    terms.every(({ path, negate, value }) => {
      let at: unknown = o;
      for (const part of path) at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
      return (String(at ?? '') === value) !== negate;
    });
}

/** The apiserver's answer to a write whose preconditions no longer hold: 409 Conflict. */
export function checkPreconditions(resource: ResourceName, current: KubeObject, preconditions: Preconditions | undefined): void {
  const what = `${RESOURCES[resource].plural}${RESOURCES[resource].group ? `.${RESOURCES[resource].group}` : ''} "${current.metadata.name}"`;
  if (preconditions?.uid && preconditions.uid !== current.metadata.uid) {
    throw new ClusterError(409, 'Conflict', `Operation cannot be fulfilled on ${what}: Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata.uid}`);
  }
  if (preconditions?.resourceVersion && preconditions.resourceVersion !== current.metadata.resourceVersion) {
    throw new ClusterError(409, 'Conflict', `Operation cannot be fulfilled on ${what}: the object has been modified; please apply your changes to the latest version and try again`);
  }
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const base: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? clone(target as Record<string, unknown>) : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

/** A deep copy: what the apiserver sends is never the object it keeps. */
export function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}
