// The farm as Prometheus sees it. Gauges (devices, sessions, queues) are computed from the
// FarmStore at scrape time, so they always equal what the pages show and can never drift.
// Histograms (boot time, session duration) observe transitions seen in the store's change
// events, each boot and each finished session at most once: what the first list finds is
// remembered but not observed (it happened before this process watched), and a relist or
// a watch restart replays nothing that was already seen.
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { FarmChange, FarmStore } from '../farm/store.js';
import { DEVICE_STATES, FINISHED_PHASES, SESSION_PHASES, type DeviceView, type PoolView, type SessionView } from '../farm/types.js';
import { PREFIX, RecentKeys, type Labels } from './registry.js';
import { countDevices } from '../farm/devices.js';

/** Cuttlefish boots take from tens of seconds to several minutes. */
export const BOOT_BUCKETS = [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200];
/** Sessions run from a minute to the 24 h timeout the CRD allows. */
export const SESSION_BUCKETS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];
/** Boots and finished sessions remembered to refuse a second observation. */
const REMEMBERED = 50_000;

export type Row<L extends string> = readonly [Labels<L>, number];

export interface FarmFigures {
  devices: Array<Row<'namespace' | 'pool' | 'state'>>;
  sessions: Array<Row<'namespace' | 'phase'>>;
  queue: Array<Row<'namespace' | 'pool'>>;
}

/**
 * The farm's gauges from plain data. Every state of every pool and every phase of every
 * namespace that has pools or sessions is present, zeros included, so a series does not
 * vanish when its count reaches 0. A queue is listed for every pool, and also for a pool
 * that does not exist but has Pending sessions (they wait for it).
 */
export function farmFigures(pools: readonly PoolView[], sessions: Iterable<SessionView>): FarmFigures {
  const devices: FarmFigures['devices'] = [];
  const namespaces = new Set<string>();
  const queues = new Map<string, { namespace: string; pool: string; pending: number }>();
  for (const pool of pools) {
    namespaces.add(pool.namespace);
    queues.set(`${pool.namespace}/${pool.name}`, { namespace: pool.namespace, pool: pool.name, pending: 0 });
    const counts = countDevices(pool.devices);
    for (const state of DEVICE_STATES) devices.push([{ namespace: pool.namespace, pool: pool.name, state }, counts[state]]);
  }
  const phases = new Map<string, Record<string, number>>();
  for (const s of sessions) {
    namespaces.add(s.namespace);
    let byPhase = phases.get(s.namespace);
    if (!byPhase) phases.set(s.namespace, (byPhase = {}));
    byPhase[s.phase] = (byPhase[s.phase] ?? 0) + 1;
    if (s.phase === 'Pending') {
      const k = `${s.namespace}/${s.spec.poolName}`;
      let q = queues.get(k);
      if (!q) queues.set(k, (q = { namespace: s.namespace, pool: s.spec.poolName, pending: 0 }));
      q.pending++;
    }
  }
  const sessionRows: FarmFigures['sessions'] = [];
  for (const namespace of [...namespaces].sort()) {
    for (const phase of SESSION_PHASES) sessionRows.push([{ namespace, phase }, phases.get(namespace)?.[phase] ?? 0]);
  }
  const queue = [...queues.values()].map((q) => [{ namespace: q.namespace, pool: q.pool }, q.pending] as const);
  return { devices, sessions: sessionRows, queue };
}

/** Seconds from bootStartedAt to readyAt, or undefined while the device has not finished this boot. */
export function bootSeconds(d: DeviceView): number | undefined {
  if (d.bootStartedAt === undefined || d.readyAt === undefined || d.readyAt < d.bootStartedAt) return undefined;
  return (d.readyAt - d.bootStartedAt) / 1000;
}

/** Seconds from startTime to completionTime of a finished session, or undefined (not finished, or never started). */
export function sessionSeconds(s: SessionView): number | undefined {
  if (!FINISHED_PHASES.has(s.phase) || s.startedAt === undefined || s.completedAt === undefined || s.completedAt < s.startedAt) return undefined;
  return (s.completedAt - s.startedAt) / 1000;
}

export class FarmMetrics {
  readonly bootSeconds: Histogram<'namespace' | 'pool'>;
  readonly sessionSeconds: Histogram<'namespace' | 'phase'>;
  /** One key per boot (pool uid, device, bootStartedAt, readyAt) and per finished session (uid). */
  private readonly boots = new RecentKeys(REMEMBERED);
  private readonly finished = new RecentKeys(REMEMBERED);
  private readonly unsubscribe: () => void;

  constructor(
    registry: Registry,
    private readonly store: FarmStore,
  ) {
    // One walk of the store serves all three gauges of a scrape, so they agree with each
    // other: the figures are kept until the next turn of the event loop, never longer.
    let current: FarmFigures | undefined;
    const figures = (): FarmFigures => {
      if (!current) {
        current = farmFigures(store.listPools(), store.allSessions());
        setImmediate(() => (current = undefined));
      }
      return current;
    };
    gauge(registry, 'devices', 'Devices by pool and state, as the pool status lists them.', ['namespace', 'pool', 'state'], () => figures().devices);
    gauge(registry, 'sessions', 'TestSessions by phase.', ['namespace', 'phase'], () => figures().sessions);
    gauge(registry, 'session_queue_length', 'Pending TestSessions per pool: sessions waiting for a device.', ['namespace', 'pool'], () => figures().queue);
    this.bootSeconds = new Histogram({
      name: `${PREFIX}device_boot_seconds`,
      help: 'Device boot time (bootStartedAt to readyAt), observed once per boot when the device becomes ready.',
      labelNames: ['namespace', 'pool'],
      buckets: BOOT_BUCKETS,
      registers: [registry],
    });
    this.sessionSeconds = new Histogram({
      name: `${PREFIX}session_duration_seconds`,
      help: 'TestSession run time (startTime to completionTime), observed once per session when it finishes, by final phase.',
      labelNames: ['namespace', 'phase'],
      buckets: SESSION_BUCKETS,
      registers: [registry],
    });
    this.unsubscribe = store.subscribe((change) => this.observe(change));
  }

  close(): void {
    this.unsubscribe();
  }

  private observe(change: FarmChange): void {
    // Before the first full list, everything seen already happened: remember, do not observe.
    const live = this.store.syncStatus().synced;
    switch (change.kind) {
      case 'device': {
        if (change.type === 'deleted') return;
        const seconds = bootSeconds(change.device);
        if (seconds === undefined) return;
        const key = bootKey(change.pool, change.device);
        // The transition check keeps a forgotten key from counting again on an unrelated change.
        if (this.boots.has(key) || (change.old && bootKey(change.pool, change.old) === key)) return;
        this.boots.add(key);
        if (live) this.bootSeconds.observe({ namespace: change.pool.namespace, pool: change.pool.name }, seconds);
        return;
      }
      case 'pool':
        // The pool is gone: so are its series, keeping the label set to pools that exist.
        if (change.type === 'deleted') this.bootSeconds.remove({ namespace: change.view.namespace, pool: change.view.name });
        return;
      case 'session': {
        if (change.type === 'deleted') return;
        const seconds = sessionSeconds(change.view);
        if (seconds === undefined) return;
        const key = change.view.uid || `${change.key}@${change.view.createdAt ?? ''}`;
        if (this.finished.has(key) || (change.old && sessionSeconds(change.old) !== undefined)) return;
        this.finished.add(key);
        if (live) this.sessionSeconds.observe({ namespace: change.view.namespace, phase: change.view.phase }, seconds);
        return;
      }
      default:
        return;
    }
  }
}

function bootKey(pool: PoolView, d: DeviceView): string {
  return `${pool.uid || `${pool.namespace}/${pool.name}`}/${d.name}/${d.bootStartedAt ?? ''}/${d.readyAt ?? ''}`;
}


/** A gauge whose values are replaced at every scrape: series of vanished pools disappear. */
function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], rows: () => ReadonlyArray<Row<L>>): Gauge<L> {
  return new Gauge<L>({
    name: `${PREFIX}${name}`,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of rows()) this.set(labels, value);
    },
  });
}
