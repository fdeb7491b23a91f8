// Sessions kept in creation order (oldest first; ties by namespace/name), so "newest first"
// pages are a walk from the end: cheap for 50,000 sessions, with a stable cursor.
import type { SessionView } from './types.js';

export interface OrderKey {
  createdAt: number;
  key: string;
}

export function orderKey(s: SessionView): OrderKey {
  return { createdAt: s.createdAt ?? 0, key: `${s.namespace}/${s.name}` };
}

export function compareOrder(a: OrderKey, b: OrderKey): number {
  return a.createdAt - b.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

export class SessionOrder {
  private readonly items: SessionView[] = [];

  get size(): number {
    return this.items.length;
  }

  insert(s: SessionView): void {
    const k = orderKey(s);
    // New sessions are nearly always the newest: check the end first.
    const last = this.items[this.items.length - 1];
    if (!last || compareOrder(orderKey(last), k) < 0) {
      this.items.push(s);
      return;
    }
    this.items.splice(this.lowerBound(k), 0, s);
  }

  remove(s: SessionView): void {
    const i = this.lowerBound(orderKey(s));
    const at = this.items[i];
    if (at && at.namespace === s.namespace && at.name === s.name) this.items.splice(i, 1);
  }

  /** Sessions strictly older than `before` (or all), newest first. */
  *newestFirst(before?: OrderKey): Generator<SessionView> {
    const end = before ? this.lowerBound(before) : this.items.length;
    for (let i = end - 1; i >= 0; i--) yield this.items[i]!;
  }

  private lowerBound(k: OrderKey): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareOrder(orderKey(this.items[mid]!), k) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
