import { describe, expect, it } from 'vitest';
import { isDnsLabel, isDnsSubdomain } from '../../src/kube/names.js';
import { eventId, newBootId, seqOfEventId } from '../../src/live/event-id.js';

describe('Kubernetes names', () => {
  it('accept object names up to 253 characters, made of dot-separated labels', () => {
    const longest = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(longest).toHaveLength(253);
    for (const ok of ['a', 'pool-1', 'pixel-8.android-15', '0', longest]) expect(isDnsSubdomain(ok), ok).toBe(true);
    for (const bad of ['', 'a..b', '.a', 'a.', '-a', 'a-', 'A', 'a_b', 'a b', `${longest}e`, 'a.-b']) expect(isDnsSubdomain(bad), bad).toBe(false);
  });

  it('accept namespaces and container names as labels of at most 63, without dots', () => {
    for (const ok of ['default', 'team-a', 'x', 'a'.repeat(63)]) expect(isDnsLabel(ok), ok).toBe(true);
    for (const bad of ['', 'a.b', 'A', '-a', 'a-', 'a'.repeat(64), 'a\r']) expect(isDnsLabel(bad), bad).toBe(false);
  });
});

describe('live event ids', () => {
  it('give back the sequence only for an id of the same boot', () => {
    const boot = newBootId();
    expect(seqOfEventId(eventId(boot, 41), boot)).toBe(41);
    expect(seqOfEventId(eventId('0000', 41), boot === '0000' ? 'ffff' : boot)).toBeUndefined();
    for (const junk of [undefined, '', '41', `${boot}-`, `${boot}-4x`, `${boot}-41\r`]) expect(seqOfEventId(junk, boot), String(junk)).toBeUndefined();
  });
});
