// A lease's arithmetic: when it ends, how far Extend goes, what the forms may ask.
import { describe, expect, it } from 'vitest';
import { extendedTimeout, leaseEndsAt, parseLeaseMinutes } from '../../src/farm/lease.js';
import type { SessionView } from '../../src/farm/types.js';

describe('leases', () => {
  it('end their timeout after the assignment, and not before there is one', () => {
    const s = { assignedAt: 1_000_000, spec: { timeoutSeconds: 1800 } } as unknown as SessionView;
    expect(leaseEndsAt(s)).toBe(1_000_000 + 1_800_000);
    expect(leaseEndsAt({ ...s, assignedAt: undefined })).toBeUndefined();
  });

  it('extend by 30 minutes up to the CRD’s 24 hours, then refuse', () => {
    expect(extendedTimeout(1800)).toBe(3600);
    expect(extendedTimeout(85_000)).toBe(86_400);
    expect(extendedTimeout(86_400)).toBeUndefined();
  });

  it('take 1 to 1440 minutes, 30 when not said', () => {
    expect(parseLeaseMinutes(undefined)).toEqual({ ok: true, minutes: 30 });
    expect(parseLeaseMinutes('60')).toEqual({ ok: true, minutes: 60 });
    expect(parseLeaseMinutes(1440)).toEqual({ ok: true, minutes: 1440 });
    for (const bad of [0, 1441, 1.5, '1h', -5, null]) expect(parseLeaseMinutes(bad).ok, String(bad)).toBe(false);
  });
});
