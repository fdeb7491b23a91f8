// One pool's history, kept incrementally: each session's facts sit in the hourly buckets
// its events and busy time fall in, and each bucket's tally is computed once and reused
// until one of its sessions changes. A change touches the few buckets of that session; a
// 7-day figure merges at most 168 tallies plus the two partial hours at its edges.
// Sessions still holding a device (open intervals) are kept aside: their busy time grows
// with the clock, so they are added at query time, never cached.
import type { SessionFacts } from './facts.js';
import { eventTimes } from './facts.js';
import { emptyTally, mergeInto, peakOf, tallyOf, type Tally } from './tally.js';
import { HOUR_MS } from './window.js';

interface Bucket {
  facts: Map<string, SessionFacts>;
  tally: Tally | undefined;
}

export class PoolHistory {
  private readonly buckets = new Map<number, Bucket>();
  private readonly sessions = new Map<string, { facts: SessionFacts; sig: string; hours: number[] }>();
  /** Sessions holding a device right now (busy, no end yet). */
  readonly open = new Map<string, SessionFacts>();
  /** Sessions waiting for a device: key → facts. */
  readonly pending = new Map<string, SessionFacts>();
  /** null: not known since the last change. */
  private oldestSeen: number | undefined | null = null;

  /** Bumped by every change that moved a figure. */
  version = 0;

  get size(): number {
    return this.sessions.size;
  }

  /** Sets (or with undefined, forgets) one session's facts. False when nothing changed. */
  apply(key: string, facts: SessionFacts | undefined): boolean {
    const old = this.sessions.get(key);
    const sig = facts ? signature(facts) : '';
    if (old && facts && old.sig === sig) return false;
    if (!old && !facts) return false;
    this.keepOldest(old?.facts.createdAt, facts?.createdAt);
    this.version++;
    if (old) {
      for (const h of old.hours) {
        const b = this.buckets.get(h)!;
        b.facts.delete(key);
        b.tally = undefined;
        if (b.facts.size === 0) this.buckets.delete(h);
      }
      this.sessions.delete(key);
      this.open.delete(key);
      this.pending.delete(key);
    }
    if (!facts) return true;
    const hours = hoursOf(facts);
    for (const h of hours) {
      let b = this.buckets.get(h);
      if (!b) this.buckets.set(h, (b = { facts: new Map(), tally: undefined }));
      b.facts.set(key, facts);
      b.tally = undefined;
    }
    this.sessions.set(key, { facts, sig, hours });
    if (facts.busy && facts.busy.to === undefined) this.open.set(key, facts);
    if (facts.phase === 'Pending') this.pending.set(key, facts);
    return true;
  }

  /** The oldest creationTimestamp among the pool's sessions (kept until a session changes). */
  oldest(): number | undefined {
    if (this.oldestSeen !== null) return this.oldestSeen;
    let min: number | undefined;
    for (const { facts } of this.sessions.values()) {
      if (facts.createdAt !== undefined && (min === undefined || facts.createdAt < min)) min = facts.createdAt;
    }
    this.oldestSeen = min;
    return min;
  }

  /** Keeps the oldest creation time known without a walk, when it can. */
  private keepOldest(removed: number | undefined, added: number | undefined): void {
    if (this.oldestSeen === null || removed === added) return;
    if (removed !== undefined && removed === this.oldestSeen) {
      this.oldestSeen = null;
      return;
    }
    if (added !== undefined && (this.oldestSeen === undefined || added < this.oldestSeen)) this.oldestSeen = added;
  }

  /** Every figure of [from, to), as of `now` (`light`: without per-device, reason and suite figures). */
  tally(from: number, to: number, now: number, light = false): Tally {
    const t = emptyTally();
    const peaks: Array<[number, number]> = []; // [hour start, closed peak of the hour's part of the span]
    for (let h = Math.floor(from / HOUR_MS); h * HOUR_MS < to; h++) {
      const b = this.buckets.get(h);
      if (!b) continue;
      const hs = h * HOUR_MS;
      const he = hs + HOUR_MS;
      const part = from <= hs && he <= to ? (b.tally ??= tallyOf(b.facts.values(), hs, he, undefined)) : tallyOf(b.facts.values(), Math.max(from, hs), Math.min(to, he), undefined);
      mergeInto(t, part, light);
      peaks.push([hs, part.peak]);
    }
    this.addOpen(t, from, to, now, peaks);
    return t;
  }

  /**
   * Adds the sessions still holding a device: their busy time up to now, and the peak. Open
   * sessions busy across the whole span add to every instant of it; from the hour the first
   * one began inside the span (open sessions are recent, so few hours), the peak needs the
   * exact sweep of that part.
   */
  private addOpen(t: Tally, from: number, to: number, now: number, peaks: ReadonlyArray<readonly [number, number]>): void {
    const end = Math.min(to, now);
    let across = 0;
    let firstInside = Number.POSITIVE_INFINITY;
    const opens: Array<[number, number]> = [];
    for (const f of this.open.values()) {
      const a = Math.max(f.busy!.from, from);
      if (end <= a) continue;
      t.busyMs += end - a;
      opens.push([f.busy!.from, end]);
      if (f.busy!.from > from) firstInside = Math.min(firstInside, f.busy!.from);
      else across++;
    }
    if (opens.length === 0) return;
    if (firstInside === Number.POSITIVE_INFINITY && to <= now) {
      t.peak += across;
      return;
    }
    const split = to <= now ? Math.max(from, Math.floor(firstInside / HOUR_MS) * HOUR_MS) : from;
    let before = 0;
    for (const [hs, peak] of peaks) if (hs < split) before = Math.max(before, peak);
    const after = peakOf([...this.closedIntervals(split, to), ...opens.map(([a, b]): [number, number] => [Math.max(a, split), b]).filter(([a, b]) => b > a)]);
    t.peak = Math.max(split > from ? before + across : 0, after);
  }

  private closedIntervals(from: number, to: number): Array<[number, number]> {
    const seen = new Set<string>();
    const out: Array<[number, number]> = [];
    for (let h = Math.floor(from / HOUR_MS); h * HOUR_MS < to; h++) {
      for (const f of this.buckets.get(h)?.facts.values() ?? []) {
        if (!f.busy || f.busy.to === undefined || seen.has(f.key)) continue;
        seen.add(f.key);
        const a = Math.max(f.busy.from, from);
        const b = Math.min(f.busy.to, to);
        if (b > a) out.push([a, b]);
      }
    }
    return out;
  }
}

/** The hours a session's events and closed busy interval touch. */
function hoursOf(f: SessionFacts): number[] {
  const hours = new Set<number>();
  for (const t of eventTimes(f)) hours.add(Math.floor(t / HOUR_MS));
  if (f.busy && f.busy.to !== undefined) {
    const last = Math.floor((f.busy.to - 1) / HOUR_MS);
    for (let h = Math.floor(f.busy.from / HOUR_MS); h <= last; h++) hours.add(h);
  }
  return [...hours];
}

/** Facts that insights read; a progress tick changes none of them. */
function signature(f: SessionFacts): string {
  return [f.phase, f.createdAt, f.assignedAt, f.startedAt, f.endedAt, f.busy?.from, f.busy?.to, f.device, f.tests?.passed, f.tests?.run, f.reason, f.suite, f.runSeconds].join('|');
}
