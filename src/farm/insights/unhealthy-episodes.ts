// Unhealthy episodes as this dashboard saw them. A pool's status keeps only each device's
// present state and message (no "since", no past), and nothing in the cluster records when
// a device went Unhealthy or came back, so the dashboard notes it itself from the store's
// device changes: when an episode began, when it ended (or that it goes on), and why (the
// message's first line). Memory only, bounded per device and by the window; a restart
// forgets it, and the page says since when it has been watching.
import type { FarmChange, FarmStore } from '../store.js';
import { HOUR_MS } from './window.js';

export interface UnhealthyEpisode {
  /** When the dashboard saw the device turn Unhealthy (epoch ms). */
  start: number;
  /**
   * false: it was already Unhealthy when the dashboard first saw it (first list after a
   * start, or a new pool): it began at `start` or earlier.
   */
  startSeen: boolean;
  /** When it left Unhealthy, or was removed from its pool; undefined while it goes on. */
  end: number | undefined;
  /** How it ended: the state it went to, or 'removed' (from the pool, or the pool deleted). */
  endedAs: string | undefined;
  /** The first line of the device's message when it turned Unhealthy (or its first non-empty one). */
  reason: string;
}

export interface EpisodeOptions {
  /** Episodes that ended before now − windowMs are dropped. */
  windowMs?: number;
  /** The newest this many are kept per device. */
  maxPerDevice?: number;
  now?: () => number;
}

interface DeviceRecord {
  episodes: UnhealthyEpisode[];
  /** Episodes dropped for the count bound (not the window): the page says some are missing. */
  dropped: number;
}

export const EPISODE_WINDOW_MS = 24 * HOUR_MS;
export const MAX_EPISODES_PER_DEVICE = 20;
const REASON_MAX = 200;
/** How often, at most, a change also sweeps every device's old episodes. */
const SWEEP_MS = 60_000;

export class UnhealthyEpisodes {
  /** Since when this dashboard has been watching (its start): nothing before is known. */
  readonly since: number;
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly windowMs: number;
  private readonly maxPerDevice: number;
  private readonly now: () => number;
  private lastSweep: number;

  constructor(
    private readonly store: FarmStore | undefined,
    options: EpisodeOptions = {},
  ) {
    this.windowMs = options.windowMs ?? EPISODE_WINDOW_MS;
    this.maxPerDevice = Math.max(1, options.maxPerDevice ?? MAX_EPISODES_PER_DEVICE);
    this.now = options.now ?? Date.now;
    this.since = this.now();
    this.lastSweep = this.since;
    if (store) {
      // Devices the store already holds were Unhealthy before we looked.
      for (const pool of store.listPools()) for (const d of pool.devices) if (d.state === 'Unhealthy') this.open(deviceKey(pool.namespace, pool.name, d.name), d.message, false);
      store.subscribe((change) => this.apply(change));
    }
  }

  apply(change: FarmChange): void {
    if (change.kind === 'device') {
      const k = deviceKey(change.pool.namespace, change.pool.name, change.device.name);
      if (change.type === 'deleted') this.close(k, 'removed');
      else if (change.device.state === 'Unhealthy') {
        if (change.old?.state !== 'Unhealthy') this.open(k, change.device.message, change.type === 'modified' || this.synced());
        else this.noteReason(k, change.device.message);
      } else this.close(k, change.device.state);
    } else if (change.kind === 'pool' && change.type === 'deleted') {
      const prefix = `${change.view.namespace}/${change.view.name}/`;
      for (const k of this.devices.keys()) if (k.startsWith(prefix)) this.close(k, 'removed');
    } else return;
    const now = this.now();
    if (now - this.lastSweep >= SWEEP_MS) this.sweep(now);
  }

  /** The device's episodes still in the window, newest first, and how many older ones the count bound dropped. */
  episodesOf(namespace: string, pool: string, device: string): { episodes: UnhealthyEpisode[]; dropped: number } {
    const record = this.devices.get(deviceKey(namespace, pool, device));
    if (!record) return { episodes: [], dropped: 0 };
    const from = this.now() - this.windowMs;
    return { episodes: record.episodes.filter((e) => e.end === undefined || e.end >= from).reverse(), dropped: record.dropped };
  }

  /** Devices with a record (for tests and the bound). */
  get size(): number {
    return this.devices.size;
  }

  /** Drops every episode that ended before the window, and devices left with none. */
  sweep(now = this.now()): void {
    this.lastSweep = now;
    const from = now - this.windowMs;
    for (const [k, record] of this.devices) {
      record.episodes = record.episodes.filter((e) => e.end === undefined || e.end >= from);
      if (record.episodes.length === 0) this.devices.delete(k);
    }
  }

  private synced(): boolean {
    return this.store?.syncStatus().synced ?? true;
  }

  private open(k: string, message: string, startSeen: boolean): void {
    let record = this.devices.get(k);
    if (!record) this.devices.set(k, (record = { episodes: [], dropped: 0 }));
    const last = record.episodes.at(-1);
    if (last && last.end === undefined) return;
    record.episodes.push({ start: this.now(), startSeen, end: undefined, endedAs: undefined, reason: firstLine(message) });
    if (record.episodes.length > this.maxPerDevice) {
      record.episodes.splice(0, record.episodes.length - this.maxPerDevice);
      record.dropped++;
    }
  }

  private noteReason(k: string, message: string): void {
    const last = this.devices.get(k)?.episodes.at(-1);
    if (last && last.end === undefined && !last.reason) last.reason = firstLine(message);
  }

  private close(k: string, endedAs: string): void {
    const last = this.devices.get(k)?.episodes.at(-1);
    if (!last || last.end !== undefined) return;
    last.end = Math.max(this.now(), last.start);
    last.endedAs = endedAs;
  }
}

const deviceKey = (namespace: string, pool: string, device: string): string => `${namespace}/${pool}/${device}`;

/** The first non-empty line of a device's message, bounded (cluster data: escaped where shown). */
function firstLine(message: string): string {
  const line = (message.split(/\r\n|\r|\n/).find((l) => l.trim() !== '') ?? '').trim();
  return line.length > REASON_MAX ? `${line.slice(0, REASON_MAX - 1)}…` : line;
}
