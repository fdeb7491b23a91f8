// The demo's steady flow of sessions through the cluster: each pool now and then creates a
// TestSession (drawn by workload.ts from the pool's own stream), and finished sessions the
// simulator made are deleted once they are old enough (keepFinishedMs), so a demo that runs
// for days keeps a bounded farm.
import type { Cluster, KubeObject } from '../kube/types.js';
import type { SimPool } from './pools.js';
import type { Played } from './sessions.js';
import type { PodLogWriter } from './simulator.js';
import { simulatedSession, startsSession } from './workload.js';

export interface FlowContext {
  cluster: Cluster;
  /** Simulated time. */
  now: number;
  log?: { warn(obj: object, msg: string): void } | undefined;
  /** Told every session created, so the next tick waits until the watch has it. */
  created(session: KubeObject): void;
}

/** Creates the sessions the pools start in a step of `stepMs` simulated time. */
export async function generateSessions(pools: Iterable<SimPool>, perMinute: number, stepMs: number, flow: FlowContext): Promise<void> {
  for (const pool of pools) {
    if (!startsSession(pool.generator, perMinute, stepMs)) continue;
    const planned = simulatedSession(pool.generator, pool.namespace, pool.name);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        flow.created(await flow.cluster.create('sessions', pool.namespace, planned.object(planned.nameFor())));
        break;
      } catch (err) {
        // The name is taken (an earlier run with the same seed): draw another.
        if ((err as { status?: number }).status === 409) continue;
        flow.log?.warn({ err, pool: pool.name }, 'could not create a simulated session');
        break;
      }
    }
  }
}

/**
 * Stops tracking sessions whose final status is written. With `keepFinishedMs`, those the
 * simulator made are deleted once finished that long ago (the rest are not its to delete).
 */
export async function forgetOldSessions(sessions: Map<string, Played>, keepFinishedMs: number | undefined, flow: FlowContext & { podLogs?: PodLogWriter | undefined }): Promise<void> {
  for (const [k, { model: s }] of [...sessions]) {
    if (s.finishedAt === undefined || s.dirty) continue;
    if (keepFinishedMs !== undefined && s.ownedBySimulator && flow.now - s.finishedAt > keepFinishedMs) {
      sessions.delete(k);
      await flow.cluster.delete('sessions', s.namespace, s.name).catch((err: unknown) => {
        // Gone already (someone deleted it) is the expected failure; anything else is said.
        if ((err as { status?: number }).status !== 404) flow.log?.warn({ err, session: `${s.namespace}/${s.name}` }, 'could not delete an old simulated session');
      });
      flow.podLogs?.deletePodLog(s.namespace, `${s.name}-runner`);
    } else if (keepFinishedMs === undefined) {
      // Not ours to delete: stop tracking it once its final status is written.
      sessions.delete(k);
    }
  }
}
