import { describe, expect, it } from 'vitest';
import { advanceDevice, assignDevice, BOOT_MEAN_MS, newDevice, releaseDevice, UNHEALTHY_REASONS, type SimDevice } from '../../src/sim/device-model.js';
import { poolStatus } from '../../src/sim/pool-status.js';
import { streamFor, type Random } from '../../src/sim/random.js';
import { adoptSession, advanceSession, assign, ASSIGN_TO_RUN_MS, results, waiting, type SimSession, type SessionStep } from '../../src/sim/session-model.js';
import { simulatedSession, startsSession } from '../../src/sim/workload.js';

/** A "random" source that always answers `value`. */
const constant = (value: number): Random => () => value;
const stamp = (at?: number) => `t${at ?? 'now'}`;
const noArtifacts = () => [];

describe('device model', () => {
  it('boots, turns Idle when its boot time is over, and says how long it took', () => {
    const d = newDevice('p-0', 1000, streamFor(1, 'p-0'), false);
    expect(d).toMatchObject({ state: 'Booting', bootStartedAt: 1000, readyAt: undefined });
    expect(d.until).toBeGreaterThan(1000);
    expect(advanceDevice(d, d.until - 1, constant(0.5), 0).device).toBe(d);
    const { device, change } = advanceDevice(d, d.until, constant(0.5), 0);
    expect(device).toMatchObject({ state: 'Idle', readyAt: d.until, message: '' });
    expect(change).toEqual({ kind: 'ready', bootMs: d.until - 1000 });
    expect(d.state).toBe('Booting'); // the step is pure
  });

  it('starts Idle when warm, as if booted just before', () => {
    const d = newDevice('p-0', 100_000, streamFor(1, 'p-0'), true);
    expect(d).toMatchObject({ state: 'Idle', readyAt: 100_000, until: 0 });
    expect(d.bootStartedAt).toBeLessThan(100_000);
  });

  it('fails when the draw is under the failure chance, with a reason, and reboots after recovering', () => {
    const idle: SimDevice = { ...newDevice('p-1', 0, constant(0.5), true) };
    expect(advanceDevice(idle, 10, constant(0.5), 0.1).device).toBe(idle);
    const { device: sick, change } = advanceDevice(idle, 10, constant(0.01), 0.1);
    expect(sick.state).toBe('Unhealthy');
    expect(change).toEqual({ kind: 'unhealthy', reason: UNHEALTHY_REASONS[0] });
    expect(sick.message).toBe(UNHEALTHY_REASONS[0]);
    const { device: rebooting, change: next } = advanceDevice(sick, sick.until, constant(0.5), 0.1);
    expect(next).toEqual({ kind: 'rebooting' });
    expect(rebooting).toMatchObject({ state: 'Booting', bootStartedAt: sick.until, readyAt: undefined, message: 'restarting after health check failure' });
    expect(rebooting.until - sick.until).toBeGreaterThan(BOOT_MEAN_MS / 4);
  });

  it('is taken by a session and given back Idle, but stays Unhealthy if it failed meanwhile', () => {
    const idle = newDevice('p-2', 0, constant(0.5), true);
    const busy = assignDevice(idle, 's1');
    expect(busy).toMatchObject({ state: 'Busy', session: 's1' });
    expect(advanceDevice(busy, 1e9, constant(0), 1).device).toBe(busy); // Busy never fails or boots here
    expect(releaseDevice(busy)).toMatchObject({ state: 'Idle', session: '' });
    expect(releaseDevice({ ...busy, state: 'Unhealthy' })).toMatchObject({ state: 'Unhealthy', session: '' });
  });
});

describe('session model', () => {
  const facts = { pool: 'p', deviceName: '', timeoutSeconds: 600, hasRunner: true, ownedBySimulator: false };
  const fresh = (patch: Partial<SimSession> = {}): SimSession => ({ ...adoptSession('ns', 's', facts, 0, 0, 0, streamFor(7, 'ns', 's')), ...patch });
  const run = (s: SimSession, now: number, random: Random = constant(0.5)) => advanceSession(s, now, random, stamp, noArtifacts);
  const kinds = (steps: SessionStep[]) => steps.map((x) => x.kind);

  it('draws the same story from the same stream', () => {
    expect(fresh()).toEqual(fresh());
    const s = fresh();
    expect(s.total).toBeGreaterThanOrEqual(12);
    expect(s.total).toBeLessThanOrEqual(80);
    expect(s.timeoutMs).toBe(600_000);
  });

  it('waits with a reason, dirty only when the reason changes', () => {
    const w = waiting(fresh(), 'WaitingForDevice', 'Waiting for an idle device in p.');
    expect(w).toMatchObject({ dirty: true, status: { phase: 'Pending', reason: 'WaitingForDevice' } });
    expect(waiting({ ...w, dirty: false }, 'WaitingForDevice', 'Waiting for an idle device in p.').dirty).toBe(false);
  });

  it('runs: assigned, started after a moment, tests at its pace, then ends by its results', () => {
    const { session: assigned, steps } = assign(fresh({ total: 4, failedTests: 1, skippedTests: 0, paceMs: 1000 }), { name: 'p-0', streamURL: 'u', appiumURL: 'a' }, 100, stamp);
    expect(kinds(steps)).toEqual(['assigned']);
    expect(assigned).toMatchObject({ phase: 'Assigned', device: 'p-0', assignedAt: 100, status: { podName: 's-runner', device: { name: 'p-0' } } });
    expect(run(assigned, 100 + ASSIGN_TO_RUN_MS - 1).steps).toEqual([]);
    const started = run(assigned, 100 + ASSIGN_TO_RUN_MS);
    expect(kinds(started.steps)).toEqual(['started']);
    const t0 = started.session.startedAt!;
    const two = run(started.session, t0 + 2000);
    expect(two.steps).toMatchObject([{ kind: 'test', index: 1, passed: true }, { kind: 'test', index: 2, passed: true }]);
    expect(two.session.status.progress).toEqual({ completed: 2, total: 4 });
    const end = run(two.session, t0 + 4000);
    expect(kinds(end.steps)).toEqual(['test', 'test', 'finished']);
    expect(end.steps[1]).toMatchObject({ index: 4, passed: false });
    expect(end.steps[2]).toMatchObject({ phase: 'Failed', reason: 'TestsFailed', device: 'p-0' });
    expect(end.session).toMatchObject({ phase: 'Failed', device: undefined, finishedAt: t0 + 4000, status: { results: { passed: 3, failed: 1, skipped: 0 }, completionTime: 'tnow' } });
  });

  it('is stopped when asked, and times out counting from its assignment', () => {
    const running = fresh({ phase: 'Running', device: 'p-0', assignedAt: 0, startedAt: 2000, phaseSince: 2000, total: 50, paceMs: 10_000, completed: 3 });
    const stopped = run({ ...running, cancelRequested: true }, 5000);
    expect(stopped.steps.at(-1)).toMatchObject({ kind: 'finished', phase: 'Cancelled', message: 'Stopped by an operator after 3 of 50 tests.' });
    const late = run(running, 600_000);
    expect(late.steps.at(-1)).toMatchObject({ kind: 'finished', phase: 'TimedOut', reason: 'Timeout' });
  });

  it('counts skipped tests only in a complete run', () => {
    const s = fresh({ total: 10, completed: 10, failedTests: 2, skippedTests: 3 });
    expect(results(s, true)).toEqual({ passed: 5, failed: 2, skipped: 3 });
    expect(results(s, false)).toEqual({ passed: 8, failed: 2, skipped: 0 });
    expect(results({ ...s, completed: 7 }, false)).toEqual({ passed: 7, failed: 0, skipped: 0 });
  });
});

describe('pool status and workload', () => {
  it('reports devices and counts, and moves the Ready time only when it flips', () => {
    const devices = [newDevice('p-0', 0, constant(0.5), true), newDevice('p-1', 0, constant(0.5), false)];
    const links = { streamURL: (ns: string, d: string) => `s/${ns}/${d}`, appiumURL: (ns: string, d: string) => `a/${ns}/${d}` };
    const first = poolStatus({ namespace: 'ns', name: 'p', replicas: 3, generation: 2, devices, ready: undefined }, 'T1', stamp, links);
    expect(first.status).toMatchObject({ observedGeneration: 2, replicas: 2, counts: { booting: 1, idle: 1, busy: 0, unhealthy: 0 } });
    expect((first.status.conditions as Array<Record<string, string>>)[0]).toMatchObject({ status: 'False', reason: 'Scaling', message: '1 booting, 1 to create', lastTransitionTime: 'T1' });
    const again = poolStatus({ namespace: 'ns', name: 'p', replicas: 3, generation: 2, devices, ready: first.ready }, 'T2', stamp, links);
    expect(again.ready).toEqual({ status: 'False', since: 'T1' });
    expect((again.status.devices as Array<Record<string, unknown>>)[0]).toMatchObject({ name: 'p-0', streamURL: 's/ns/p-0', podName: 'p-0-cvd', session: undefined });
  });

  it('starts sessions at the asked rate only, with names drawn from the pool stream', () => {
    expect(startsSession(constant(0), 0, 500)).toBe(false);
    expect(startsSession(constant(0.004), 1, 500)).toBe(true); // 1/min over 0.5 s: chance 1/120
    expect(startsSession(constant(0.009), 1, 500)).toBe(false);
    const planned = simulatedSession(streamFor(3, 'ns', 'p', 'sessions'), 'ns', 'p');
    const name = planned.nameFor();
    expect(name).toMatch(/^p-[a-z]+-[b-z2-9]{5}$/);
    expect(planned.nameFor()).not.toBe(name);
    expect(planned.object(name)).toMatchObject({ kind: 'TestSession', metadata: { name, labels: { 'droidfarm.io/simulated': 'true' } }, spec: { poolRef: { name: 'p' } } });
  });
});
