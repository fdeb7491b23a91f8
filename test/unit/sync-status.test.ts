// The farm's sync status as the badge and the 403 pages read it: since when the data is
// stale, and which reads were refused; and which refusals matter for a request.
import { describe, expect, it } from 'vitest';
import type { ForbiddenRead } from '../../src/farm/store.js';
import { forbiddenError, refusedReads } from '../../src/http/read-access.js';
import type { InformerStatus } from '../../src/kube/informer.js';
import { summarise } from '../../src/kube/sync.js';

const status = (patch: Partial<InformerStatus>): InformerStatus => ({
  resource: 'pools',
  namespace: 'a',
  state: 'live',
  synced: true,
  resourceVersion: '1',
  lastSyncAt: undefined,
  lastEventAt: undefined,
  restarts: 0,
  relists: 0,
  lastError: undefined,
  failingSince: undefined,
  forbidden: undefined,
  conversionFailures: 0,
  ...patch,
});

const refused = (verb: 'list' | 'watch', resource: string, namespace: string | undefined, group = 'droidfarm.io'): ForbiddenRead => ({ verb, resource, group, namespace });

describe('summarise', () => {
  it('is live with nothing failing: no staleSince, no refused reads', () => {
    expect(summarise([status({}), status({ resource: 'sessions' })])).toEqual({ synced: true, stale: false, detail: [] });
  });

  it('dates staleness from the earliest failure among the failing informers only', () => {
    const s = summarise([
      status({ state: 'retrying', failingSince: 5_000, lastError: 'watch: 503 down' }),
      status({ resource: 'sessions', state: 'retrying', failingSince: 3_000, lastError: 'watch: 503 down' }),
      // Recovered: its old failure time no longer counts.
      status({ resource: 'events', state: 'live', failingSince: 1_000 }),
    ]);
    expect(s).toMatchObject({ synced: true, stale: true, staleSince: 3_000 });
    expect(s.detail).toEqual(['pools in a: watch failing, retrying (watch: 503 down)', 'sessions in a: watch failing, retrying (watch: 503 down)']);
  });

  it('lists every refused read, with the verb that was refused', () => {
    const s = summarise([
      status({ synced: false, state: 'retrying', restarts: 2, failingSince: 1, forbidden: refused('list', 'testsessions', 'b') }),
      status({ resource: 'events', state: 'retrying', failingSince: 2, forbidden: refused('watch', 'events', 'b', '') }),
    ]);
    expect(s.synced).toBe(false);
    expect(s.forbidden).toEqual([refused('list', 'testsessions', 'b'), refused('watch', 'events', 'b', '')]);
  });
});

describe('refused reads for a request', () => {
  const sync = { synced: false, stale: true, detail: [], forbidden: [refused('list', 'testsessions', 'team-b'), refused('list', 'devicepools', undefined)] };

  it('counts, for a request about one namespace, only that namespace and cluster-wide refusals', () => {
    expect(refusedReads(sync, 'team-a')).toEqual([refused('list', 'devicepools', undefined)]);
    expect(refusedReads(sync, 'team-b')).toEqual(sync.forbidden);
    expect(refusedReads(sync, undefined)).toEqual(sync.forbidden);
    expect(refusedReads({ synced: true, stale: false, detail: [] }, 'team-a')).toEqual([]);
  });

  it('words the 403 with the verb, resource and namespace, and what to grant', () => {
    const err = forbiddenError([refused('list', 'testsessions', 'team-b')]);
    expect(err).toMatchObject({ status: 403, code: 'DF_ERR_KUBE_FORBIDDEN' });
    expect(err.message).toBe(
      'The dashboard may not list testsessions in team-b: grant its Kubernetes identity list and watch on testsessions.droidfarm.io in team-b ' +
        '(deploy/base/rbac-read.yaml has the role it needs), then reload.',
    );
    expect(forbiddenError([refused('watch', 'events', undefined, '')]).message).toContain('may not watch events in all namespaces: grant its Kubernetes identity list and watch on events cluster-wide');
  });
});
