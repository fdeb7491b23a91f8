// A simulated device's life, as a pure step function: Booting → Idle, now and then Idle →
// Unhealthy, and back through a reboot. Busy is set by the session model (an assignment)
// and left alone here. Randomness comes from the device's own stream, so its story does
// not depend on what else happens in the farm.
import type { DeviceState } from '../farm/types.js';
import { logNormal, type Random } from './random.js';

export const BOOT_MEAN_MS = 35_000;
export const RECOVERY_MS = 20_000;
/** An idle device turns unhealthy about once per this much simulated time. */
export const MEAN_TIME_BETWEEN_FAILURES_MS = 40 * 60_000;

export const UNHEALTHY_REASONS = ['adb heartbeat lost', 'launcher not responding', 'boot animation stuck after restart', 'disk pressure on emulator overlay'] as const;

export interface SimDevice {
  readonly name: string;
  readonly state: DeviceState;
  readonly bootStartedAt: number;
  readonly readyAt: number | undefined;
  /** Simulated time at which the current state ends (boot done, recovery). */
  readonly until: number;
  /** The session it runs, while Busy. */
  readonly session: string;
  readonly message: string;
}

/** What a step did, for the simulator to tell (transitions, Events). */
export type DeviceChange = { kind: 'ready'; bootMs: number } | { kind: 'unhealthy'; reason: string } | { kind: 'rebooting' };

/** A new device: booting from `now`, or (warm) already booted when the simulator started. */
export function newDevice(name: string, now: number, random: Random, warm: boolean): SimDevice {
  const bootMs = logNormal(random, BOOT_MEAN_MS);
  return {
    name,
    state: warm ? 'Idle' : 'Booting',
    bootStartedAt: now - (warm ? bootMs : 0),
    readyAt: warm ? now : undefined,
    until: warm ? 0 : now + bootMs,
    session: '',
    message: '',
  };
}

/** The device at `now`, given the chance that an idle device fails during this step. */
export function advanceDevice(d: SimDevice, now: number, random: Random, failureChance: number): { device: SimDevice; change?: DeviceChange } {
  if (d.state === 'Booting' && now >= d.until) {
    return { device: { ...d, state: 'Idle', readyAt: now, message: '' }, change: { kind: 'ready', bootMs: now - d.bootStartedAt } };
  }
  if (d.state === 'Idle' && random() < failureChance) {
    const until = now + logNormal(random, RECOVERY_MS);
    const reason = UNHEALTHY_REASONS[Math.floor(random() * UNHEALTHY_REASONS.length)]!;
    return { device: { ...d, state: 'Unhealthy', until, message: reason }, change: { kind: 'unhealthy', reason } };
  }
  if (d.state === 'Unhealthy' && now >= d.until) {
    // Recovery is a reboot of the emulator.
    const until = now + logNormal(random, BOOT_MEAN_MS);
    return { device: { ...d, state: 'Booting', bootStartedAt: now, readyAt: undefined, until, message: 'restarting after health check failure' }, change: { kind: 'rebooting' } };
  }
  return { device: d };
}

/** Its pod was deleted (a restart from the dashboard): it boots again, free of any session. */
export function restartDevice(d: SimDevice, now: number, random: Random): SimDevice {
  return { ...d, state: 'Booting', session: '', bootStartedAt: now, readyAt: undefined, until: now + logNormal(random, BOOT_MEAN_MS), message: 'restarting: its pod was deleted' };
}

/** Taken by a session. */
export function assignDevice(d: SimDevice, session: string): SimDevice {
  return { ...d, state: 'Busy', session };
}

/** Given back by its session: Idle again, unless it went Unhealthy or rebooted meanwhile. */
export function releaseDevice(d: SimDevice): SimDevice {
  return { ...d, session: '', state: d.state === 'Busy' ? 'Idle' : d.state };
}
