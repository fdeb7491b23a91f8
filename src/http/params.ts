// Query parameters that name Kubernetes objects, checked the way the apiserver would, so a
// typo gets a 400 that says what is wrong instead of an empty answer.
import { badRequest } from './errors.js';
import { isDnsLabel, isDnsSubdomain } from '../kube/names.js';

/** Why a value is not a namespace or object name: the route schemas (src/http/schema.ts) say the same. */
export const NOT_A_NAMESPACE = "must be a namespace name (lowercase letters, digits and '-', at most 63)";
export const notAName = (kind: string): string => `must be a ${kind} name (lowercase letters, digits, '-' and '.')`;

/** An optional namespace filter; '' means none. */
export function namespaceParam(value: unknown, field = 'namespace'): string | undefined {
  const v = single(value, field);
  if (v === undefined || v === '') return undefined;
  if (!isDnsLabel(v)) throw badRequest(`${field} ${NOT_A_NAMESPACE}.`, [{ field, message: NOT_A_NAMESPACE }]);
  return v;
}

/** An optional object name filter (DevicePool, TestSession); '' means none. */
export function nameParam(value: unknown, field: string, kind: string): string | undefined {
  const v = single(value, field);
  if (v === undefined || v === '') return undefined;
  if (!isDnsSubdomain(v)) throw badRequest(`${field} ${notAName(kind)}.`, [{ field, message: notAName(kind) }]);
  return v;
}

export const GIVEN_TWICE = 'was given more than once; give it once';

/** A parameter given at most once. */
export function single(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  throw badRequest(`${field} ${GIVEN_TWICE}.`, [{ field, message: GIVEN_TWICE }]);
}
