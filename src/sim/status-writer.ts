// Writes what the model says through the status subresource: each pool and session whose
// status changed since its last write (dirty), the whole status each time. The model is
// the source of truth: what is written is never read back, but the versions the writes
// return are handed to the watch, so the next tick waits until it has seen them.
import type { Cluster, KubeObject } from '../kube/types.js';
import type { FarmLinks } from './farm-links.js';
import { poolStatus } from './pool-status.js';
import type { SimPool } from './pools.js';
import type { Played } from './sessions.js';
import type { SimClock } from './sim-clock.js';

export class StatusWriter {
  constructor(
    private readonly cluster: Cluster,
    private readonly clock: SimClock,
    private readonly links: FarmLinks,
    /** Told every object a write returned. */
    private readonly wrote: (resource: 'pools' | 'sessions', written: KubeObject) => void,
  ) {}

  /** Writes every dirty status. A failed write leaves its object dirty, so the next tick writes it again; the first failure is thrown. */
  async write(pools: Iterable<SimPool>, sessions: Iterable<Played>): Promise<void> {
    const now = this.clock.stamp();
    let failure: unknown;
    for (const pool of pools) {
      if (!pool.dirty) continue;
      const { status, ready } = poolStatus(pool, now, (at) => this.clock.stamp(at), this.links);
      const ok = await this.patch(pool, 'pools', pool.namespace, pool.name, { status }).catch((err: unknown) => {
        failure ??= err;
        return false;
      });
      if (ok) pool.ready = ready;
    }
    for (const played of sessions) {
      if (!played.model.dirty) continue;
      const clean = { dirty: true };
      await this.patch(clean, 'sessions', played.model.namespace, played.model.name, { status: played.model.status }).catch((err: unknown) => {
        failure ??= err;
      });
      if (!clean.dirty) played.model = { ...played.model, dirty: false };
    }
    if (failure !== undefined) throw failure;
  }

  /** Writes status; the object is clean afterwards. False when it was deleted meanwhile. */
  private async patch(target: { dirty: boolean }, resource: 'pools' | 'sessions', namespace: string, name: string, patch: Record<string, unknown>): Promise<boolean> {
    try {
      this.wrote(resource, await this.cluster.patch(resource, namespace, name, patch, { subresource: 'status' }));
      target.dirty = false;
      return true;
    } catch (err) {
      // Deleted meanwhile: the next read forgets it.
      if ((err as { status?: number }).status !== 404) throw err;
      target.dirty = false;
      return false;
    }
  }
}
