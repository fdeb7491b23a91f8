// What scaling a pool does to the devices it has: the pool's StatefulSet removes the
// highest ordinals first, so scaling to N takes the devices whose pod ordinal is N or more.
// A busy device among them ends its session: the page and the API name those sessions and
// ask for a confirmation first. Plain data in and out.
import type { DeviceView } from './types.js';

export const MIN_REPLICAS = 0;
/** The CRD's bounds (deploy/crds/devicepools.droidfarm.io.yaml). */
export const MAX_REPLICAS = 500;

export interface LostSession {
  device: string;
  session: string;
}

/** A device's ordinal in its StatefulSet: the number its pod name (or its own) ends in. */
export function deviceOrdinal(d: Pick<DeviceView, 'name' | 'podName'>): number | undefined {
  const m = /-(\d+)$/.exec(d.podName || d.name);
  return m ? Number(m[1]) : undefined;
}

/**
 * The sessions that lose their device when the pool goes to `replicas`. A busy device
 * whose ordinal is unknown counts as lost whenever the target is below the busy count:
 * the safe reading, since nothing says which devices survive.
 */
export function sessionsLostByScaling(devices: readonly DeviceView[], replicas: number): LostSession[] {
  const busy = devices.filter((d) => d.state === 'Busy' && d.session);
  const belowBusy = replicas < busy.length;
  return busy
    .filter((d) => {
      const ordinal = deviceOrdinal(d);
      return ordinal === undefined ? belowBusy : ordinal >= replicas;
    })
    .map((d) => ({ device: d.name, session: d.session }));
}

/** A replicas value as asked (a JSON number or a form string), or why it is not one. */
export function parseReplicas(raw: unknown): { ok: true; replicas: number } | { ok: false; message: string } {
  const value = typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value)) return { ok: false, message: `must be a whole number from ${MIN_REPLICAS} to ${MAX_REPLICAS}` };
  if (value < MIN_REPLICAS || value > MAX_REPLICAS) return { ok: false, message: `must be from ${MIN_REPLICAS} to ${MAX_REPLICAS} (the DevicePool's bounds); ${value} is out of range` };
  return { ok: true, replicas: value };
}

/** "run-a (on alpha-3), run-b (on alpha-4)", at most `max` named, then "and N more". */
export function nameSessions(lost: readonly LostSession[], max = 5): string {
  const named = lost.slice(0, max).map((l) => `${l.session} (on ${l.device})`);
  return lost.length > max ? `${named.join(', ')} and ${lost.length - max} more` : named.join(', ');
}
