// The live badge in every page's header, from the farm's sync status: live, syncing,
// reconnecting (since when: public/app.js turns it into "offline — data as of …" in the
// viewer's time zone) or no read access. The server swaps it when its watches' health changes.
import type { SyncStatus } from '../farm/store.js';

export type LiveBadgeState = 'forbidden' | 'syncing' | 'reconnecting' | 'live';

export interface LiveBadgeView {
  state: LiveBadgeState;
  label: string;
  /** While reconnecting: the ISO time the data is as of; else ''. */
  since: string;
  /** The hover text: what the watches say, or that all is well. */
  title: string;
}

const LABELS: Record<LiveBadgeState, string> = { forbidden: 'no read access', reconnecting: 'reconnecting', syncing: 'syncing', live: 'live' };

export function liveBadgeView(sync: SyncStatus): LiveBadgeView {
  const state: LiveBadgeState = (sync.forbidden ?? []).length > 0 ? 'forbidden' : !sync.synced ? 'syncing' : sync.stale ? 'reconnecting' : 'live';
  return {
    state,
    label: LABELS[state],
    since: state === 'reconnecting' && sync.staleSince ? new Date(sync.staleSince).toISOString() : '',
    title: sync.detail.length ? sync.detail.join('; ') : 'watching the cluster',
  };
}
