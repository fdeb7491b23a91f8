// The header's live badge and the page's stream address come from the view, not the templates.
import { describe, expect, it } from 'vitest';
import { liveHref } from '../../src/view/links.js';
import { liveBadgeView } from '../../src/view/live-badge.js';

describe('liveBadgeView', () => {
  it('says live, syncing, reconnecting since when, or no read access', () => {
    expect(liveBadgeView({ synced: true, stale: false, detail: [] })).toEqual({ state: 'live', label: 'live', since: '', title: 'watching the cluster' });
    expect(liveBadgeView({ synced: false, stale: false, detail: ['not started'] })).toMatchObject({ state: 'syncing', title: 'not started' });
    expect(liveBadgeView({ synced: true, stale: true, detail: ['pools: 503', 'sessions: 503'], staleSince: Date.parse('2026-12-03T09:00:00Z') })).toEqual({
      state: 'reconnecting',
      label: 'reconnecting',
      since: '2026-12-03T09:00:00.000Z',
      title: 'pools: 503; sessions: 503',
    });
    const forbidden = [{ verb: 'list' as const, resource: 'testsessions', group: 'droidfarm.io', namespace: undefined }];
    expect(liveBadgeView({ synced: true, stale: true, detail: [], forbidden })).toMatchObject({ state: 'forbidden', label: 'no read access', since: '' });
  });
});

describe('liveHref', () => {
  it('names each topic, encoded', () => {
    expect(liveHref(['farm', 'session:ns/a b'])).toBe('/live?topic=farm&topic=session%3Ans%2Fa%20b');
  });
});
