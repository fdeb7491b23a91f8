// The windows insights look back over, and how each is cut into chart slots: a bar per
// 5 minutes over 1 h, per hour over 24 h, per 6 hours over 7 d (legible on a phone).
export const HOUR_MS = 3_600_000;

export const WINDOWS = {
  '1h': { ms: HOUR_MS, slotMs: 5 * 60_000, label: 'last hour' },
  '24h': { ms: 24 * HOUR_MS, slotMs: HOUR_MS, label: 'last 24 hours' },
  '7d': { ms: 7 * 24 * HOUR_MS, slotMs: 6 * HOUR_MS, label: 'last 7 days' },
} as const;

export type WindowName = keyof typeof WINDOWS;
export const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];
export const DEFAULT_WINDOW: WindowName = '24h';

export function isWindow(value: unknown): value is WindowName {
  return typeof value === 'string' && Object.hasOwn(WINDOWS, value);
}

/**
 * The chart slots of a window ending at `now`, oldest first. Slot edges sit on whole slot
 * lengths (5 min, hours, 6 h in UTC) so bars do not shift every second; the first slot is
 * cut at the window's start and the last at now.
 */
export function slotsOf(window: WindowName, now: number): Array<{ from: number; to: number }> {
  const { ms, slotMs } = WINDOWS[window];
  const from = now - ms;
  const out: Array<{ from: number; to: number }> = [];
  let edge = Math.floor(from / slotMs) * slotMs;
  while (edge < now) {
    const next = edge + slotMs;
    out.push({ from: Math.max(edge, from), to: Math.min(next, now) });
    edge = next;
  }
  return out;
}
