import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/kube/backoff.js';
import { parseSelector, SelectorError } from '../../src/farm/labels.js';
import { mergePatch } from '../../src/kube/api-semantics.js';
import { resourcePath } from '../../src/kube/resources.js';
import { time, toPoolView, toSessionView } from '../../src/kube/slim.js';

describe('Backoff', () => {
  it('grows exponentially, is capped, and stays between half and all of each step', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    expect([low.next(), low.next(), low.next(), low.next(), low.next(), low.next()]).toEqual([50, 100, 200, 400, 500, 500]);
    const high = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    expect(high.next()).toBe(100);
    high.reset();
    expect(high.failures).toBe(0);
  });
});

describe('mergePatch (RFC 7386)', () => {
  it('merges objects, replaces arrays and deletes with null', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1, 2] }, { b: { c: null, x: 1 }, e: [3] })).toEqual({ a: 1, b: { d: 3, x: 1 }, e: [3] });
  });
});

describe('parseSelector', () => {
  it('supports =, ==, !=, in, notin and existence', () => {
    const m = parseSelector('team=core,env!=prod,tier');
    expect(m({ team: 'core', tier: 'a' })).toBe(true);
    expect(m({ team: 'core', env: 'prod', tier: 'a' })).toBe(false);
    expect(m({ team: 'core' })).toBe(false);
    expect(parseSelector('a==b')({ a: 'b' })).toBe(true);
    expect(parseSelector('!a')({ a: 'b' })).toBe(false);
    expect(parseSelector('env in (qa, staging),droidfarm.io/suite notin (smoke)')({ env: 'qa', 'droidfarm.io/suite': 'login' })).toBe(true);
    expect(parseSelector('env in (qa,staging)')({ env: 'prod' })).toBe(false);
  });

  it.each(['a=b,,c', 'bad key!=x', 'a=<script>', 'a in (x,y', '=v'])('rejects %j with a SelectorError', (selector) => {
    expect(() => parseSelector(selector)).toThrowError(SelectorError);
  });
});

describe('resourcePath', () => {
  it('builds group, core and subresource paths and escapes names', () => {
    expect(resourcePath('pools', 'ns', 'p 1', 'status')).toBe('/apis/droidfarm.io/v1alpha1/namespaces/ns/devicepools/p%201/status');
    expect(resourcePath('events')).toBe('/api/v1/events');
  });
});

describe('slim views', () => {
  it('parses RFC 3339 strings and Date objects alike', () => {
    expect(time('2026-11-23T10:00:00Z')).toBe(Date.UTC(2026, 10, 23, 10));
    expect(time(new Date(Date.UTC(2026, 10, 23, 10)))).toBe(Date.UTC(2026, 10, 23, 10));
    expect(time('not a date')).toBeUndefined();
  });

  it('drops what nobody reads and turns odd values into safe defaults', () => {
    const pool = toPoolView({
      metadata: { name: 'p', namespace: 'n', managedFields: [{ huge: true }] } as never,
      spec: { templateRef: { name: 't' }, replicas: 'three' },
      status: { devices: [{ name: 'd1', state: 'Sleeping' }, { state: 'Idle' }, 'junk'] },
    });
    expect(pool).not.toHaveProperty('managedFields');
    expect(pool.replicas).toBe(0);
    expect(pool.devices).toHaveLength(1);
    expect(pool.devices[0]!.state).toBe('Unhealthy');
  });

  it('reads a session with defaults for what the operator has not written yet', () => {
    const s = toSessionView({ metadata: { name: 's', namespace: 'n' }, spec: { poolRef: { name: 'p' } } });
    expect(s.phase).toBe('Pending');
    expect(s.spec.timeoutSeconds).toBe(1800);
    expect(s.device).toBeUndefined();
    expect(s.artifacts).toEqual([]);
  });
});
