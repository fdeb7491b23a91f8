// Query parameters that name Kubernetes objects, checked the way the apiserver would, so a
// typo gets a 400 that says what is wrong instead of an empty answer.
import { badRequest } from './errors.js';
import { isDnsLabel, isDnsSubdomain } from '../kube/names.js';

/** An optional namespace filter; '' means none. */
export function namespaceParam(value: unknown, field = 'namespace'): string | undefined {
  const v = single(value, field);
  if (v === undefined || v === '') return undefined;
  if (!isDnsLabel(v)) throw badRequest(`${field} must be a namespace name (lowercase letters, digits and '-', at most 63).`, [{ field, message: 'not a namespace name' }]);
  return v;
}

/** An optional object name filter (DevicePool, TestSession); '' means none. */
export function nameParam(value: unknown, field: string, kind: string): string | undefined {
  const v = single(value, field);
  if (v === undefined || v === '') return undefined;
  if (!isDnsSubdomain(v)) throw badRequest(`${field} must be a ${kind} name (lowercase letters, digits, '-' and '.').`, [{ field, message: `not a ${kind} name` }]);
  return v;
}

/** A parameter given at most once. */
export function single(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  throw badRequest(`${field} was given more than once; give it once.`, [{ field, message: 'given more than once' }]);
}
