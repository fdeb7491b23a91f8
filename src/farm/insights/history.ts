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

const DAY_HOURS = 24;

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
  /** Tallies of whole UTC days, kept until one of their hours changes. */
  private readonly days = new Map<number, Tally>();
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
        this.days.delete(Math.floor(h / DAY_HOURS));
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
      this.days.delete(Math.floor(h / DAY_HOURS));
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

  /** Sessions that ended on `device` in [from, to), newest first. */
  endedOn(device: string, from: number, to: number): SessionFacts[] {
    const seen = new Set<string>();
    const out: SessionFacts[] = [];
    for (let h = Math.floor(from / HOUR_MS); h * HOUR_MS < to; h++) {
      for (const f of this.buckets.get(h)?.facts.values() ?? []) {
        if (f.device !== device || !f.finished || f.endedAt === undefined || f.endedAt < from || f.endedAt >= to || seen.has(f.key)) continue;
        seen.add(f.key);
        out.push(f);
      }
    }
    return out.sort((a, b) => b.endedAt! - a.endedAt! || a.name.localeCompare(b.name));
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
    const open = this.openIn(from, to, now);
    let before = 0; // the closed peak before open.split
    for (let h = Math.floor(from / HOUR_MS); h * HOUR_MS < to; ) {
      const hs = h * HOUR_MS;
      // A whole UTC day inside the span, not cut by the open sessions' sweep: its cached tally.
      const de = hs + DAY_HOURS * HOUR_MS;
      if (h % DAY_HOURS === 0 && from <= hs && de <= to && (de <= open.split || hs >= open.split)) {
        const day = this.dayTally(h / DAY_HOURS);
        mergeInto(t, day, light);
        if (de <= open.split) before = Math.max(before, day.peak);
        h += DAY_HOURS;
        continue;
      }
      h++;
      const b = this.buckets.get(h - 1);
      if (!b) continue;
      const he = hs + HOUR_MS;
      const part = from <= hs && he <= to ? this.hourTally(b, hs) : tallyOf(b.facts.values(), Math.max(from, hs), Math.min(to, he), undefined);
      mergeInto(t, part, light);
      if (he <= open.split) before = Math.max(before, part.peak);
    }
    this.addOpen(t, from, to, open, before);
    return t;
  }

  private hourTally(b: Bucket, hs: number): Tally {
    return (b.tally ??= tallyOf(b.facts.values(), hs, hs + HOUR_MS, undefined));
  }

  private dayTally(day: number): Tally {
    let t = this.days.get(day);
    if (!t) {
      t = emptyTally();
      for (let h = day * DAY_HOURS; h < (day + 1) * DAY_HOURS; h++) {
        const b = this.buckets.get(h);
        if (b) mergeInto(t, this.hourTally(b, h * HOUR_MS));
      }
      this.days.set(day, t);
    }
    return t;
  }

  /**
   * The sessions still holding a device, as they bear on [from, to): busy up to now. Those
   * busy across the whole span add to every instant of it; from the hour the first one began
   * inside the span (`split`: open sessions are recent, so few hours), the peak needs the
   * exact sweep of that part.
   */
  private openIn(from: number, to: number, now: number): { busyMs: number; across: number; opens: Array<[number, number]>; split: number } {
    const end = Math.min(to, now);
    let across = 0;
    let busyMs = 0;
    let firstInside = Number.POSITIVE_INFINITY;
    const opens: Array<[number, number]> = [];
    for (const f of this.open.values()) {
      const a = Math.max(f.busy!.from, from);
      if (end <= a) continue;
      busyMs += end - a;
      opens.push([f.busy!.from, end]);
      if (f.busy!.from > from) firstInside = Math.min(firstInside, f.busy!.from);
      else across++;
    }
    let split = Number.POSITIVE_INFINITY;
    if (opens.length && (firstInside !== Number.POSITIVE_INFINITY || to > now)) split = to <= now ? Math.max(from, Math.floor(firstInside / HOUR_MS) * HOUR_MS) : from;
    return { busyMs, across, opens, split };
  }

  private addOpen(t: Tally, from: number, to: number, open: ReturnType<PoolHistory['openIn']>, before: number): void {
    if (open.opens.length === 0) return;
    t.busyMs += open.busyMs;
    if (open.split === Number.POSITIVE_INFINITY) {
      t.peak += open.across;
      return;
    }
    const { split } = open;
    const after = peakOf([...this.closedIntervals(split, to), ...open.opens.map(([a, b]): [number, number] => [Math.max(a, split), b]).filter(([a, b]) => b > a)]);
    t.peak = Math.max(split > from ? before + open.across : 0, after);
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
