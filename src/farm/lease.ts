// Leases: a device held for manual use (or for CI driving its Appium URL). A lease is a
// TestSession without a runner (a device claim), usually for one named device; it holds the
// device from its assignment for spec.timeoutSeconds, until Release (Stop) or the timeout.
// Plain data in and out: when it ends, how far Extend may go, what the form may ask.
import type { SessionView } from './types.js';

/** What the lease forms offer, in minutes. */
export const LEASE_MINUTES = [15, 30, 60, 120, 240, 480] as const;
export const DEFAULT_LEASE_MINUTES = 30;
/** One Extend adds this much. */
export const EXTEND_MINUTES = 30;
/** The CRD's bounds on spec.timeoutSeconds. */
export const MIN_TIMEOUT_SECONDS = 60;
export const MAX_TIMEOUT_SECONDS = 86_400;
export const MAX_REASON = 256;
export const MAX_HOLDER = 63;

/** A claim: a session without a runner, which holds its device until Stop or its timeout. */
export const isClaim = (s: SessionView): boolean => s.spec.runner === undefined;

/** When the lease ends (its timeout counts from the assignment); undefined before one. */
export function leaseEndsAt(s: SessionView): number | undefined {
  return s.assignedAt === undefined ? undefined : s.assignedAt + s.spec.timeoutSeconds * 1000;
}

/** The timeout after one Extend, or undefined when the CRD's maximum is already reached. */
export function extendedTimeout(timeoutSeconds: number, minutes = EXTEND_MINUTES): number | undefined {
  if (timeoutSeconds >= MAX_TIMEOUT_SECONDS) return undefined;
  return Math.min(MAX_TIMEOUT_SECONDS, timeoutSeconds + minutes * 60);
}

/** Minutes as asked (a form string or a JSON number) within the CRD's bounds, or why not. */
export function parseLeaseMinutes(raw: unknown): { ok: true; minutes: number } | { ok: false; message: string } {
  const value = raw === undefined || raw === '' ? DEFAULT_LEASE_MINUTES : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value * 60 < MIN_TIMEOUT_SECONDS || value * 60 > MAX_TIMEOUT_SECONDS) {
    return { ok: false, message: `must be a whole number of minutes from 1 to ${MAX_TIMEOUT_SECONDS / 60}` };
  }
  return { ok: true, minutes: value };
}
