// The state filter of a pool page: multi-select chips, kept in the URL (?state=Idle&state=Busy).
// A viewer's filter never travels in a fragment: the grid the stream swaps is the same for
// everyone, and the filter is a class on the element around it (the page's own, never
// swapped), so a snapshot, a reconnect or a live tile can never undo it.
import { DEVICE_STATES, type DeviceCounts, type DeviceState } from '../farm/types.js';
import { domId } from './dom-id.js';

export interface FilterChip {
  state: DeviceState;
  pressed: boolean;
  /** The URL with this chip toggled: what the chip does without script. */
  href: string;
  /** The id of the chip's live count (a fragment of its own). */
  countId: string;
  count: number;
}

export interface PoolFilterView {
  /** Classes of the element around the grid: `filter-on show-Idle …`, or none. */
  classes: string;
  states: readonly DeviceState[];
  chips: FilterChip[];
  /** The unfiltered page. */
  allHref: string;
}

export function stateCountId(namespace: string, pool: string, state: DeviceState): string {
  return domId('state-count', namespace, pool, state);
}

export function poolFilterView(base: string, namespace: string, pool: string, filter: readonly DeviceState[], counts: DeviceCounts | undefined): PoolFilterView {
  const on = new Set(filter);
  const hrefFor = (states: Iterable<DeviceState>) => {
    const list = DEVICE_STATES.filter((s) => [...states].includes(s));
    return list.length ? `${base}?${list.map((s) => `state=${s}`).join('&')}` : base;
  };
  return {
    classes: on.size ? ['filter-on', ...DEVICE_STATES.filter((s) => on.has(s)).map((s) => `show-${s}`)].join(' ') : '',
    states: DEVICE_STATES.filter((s) => on.has(s)),
    chips: DEVICE_STATES.map((state) => {
      const toggled = new Set(on);
      if (toggled.has(state)) toggled.delete(state);
      else toggled.add(state);
      return { state, pressed: on.has(state), href: hrefFor(toggled), countId: stateCountId(namespace, pool, state), count: counts?.[state] ?? 0 };
    }),
    allHref: base,
  };
}
