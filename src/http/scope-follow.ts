// What a signed-in person may see, followed for as long as any stream of theirs is open
// (page streams and JSON feeds alike): one schedule per person, not one per stream. Their
// scope is asked again when the cached answers it rests on expire (the access TTL), or at
// once when their RBAC proved different (a 403 forgot those answers), and every open stream
// of theirs hears the result. A person with 1,000 tabs costs one refresh per TTL, not 1,000.
import type { Identity } from './identity.js';
import type { Visible } from './visibility.js';

export interface StreamVisible {
  pools: Visible;
  sessions: Visible;
}

/** What a refresh found: what the person may list and watch, and until when that holds. */
export interface StreamScope {
  visible: StreamVisible;
  until: number;
}

/** Told each refresh's result; undefined when it failed (unsure what the person may see). */
export type ScopeListener = (visible: StreamVisible | undefined) => void;

/** A scope is never asked again sooner than this (an evicted cache entry says "now"). */
const MIN_REFRESH_MS = 1_000;
/** After a failed refresh, the next one comes this much later. */
const FAILED_REFRESH_RETRY_MS = 5_000;

interface Person {
  who: Identity;
  listeners: Set<ScopeListener>;
  timer: NodeJS.Timeout | undefined;
  /** When the next refresh is due (epoch ms). */
  due: number;
  refreshing: boolean;
  /** Forgotten while a refresh was in flight: that one may have read the old answers. */
  again: boolean;
}

export class ScopeFollow {
  private readonly people = new Map<string, Person>();

  constructor(
    private readonly refresh: (who: Identity) => Promise<StreamScope>,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Follows this person's scope for one stream until the returned function is called.
   * `until`: when the scope the stream started with stops holding.
   */
  follow(who: Identity, until: number, listener: ScopeListener): () => void {
    const key = personKey(who);
    let person = this.people.get(key);
    if (!person) {
      person = { who, listeners: new Set(), timer: undefined, due: Infinity, refreshing: false, again: false };
      this.people.set(key, person);
    }
    if (!person.refreshing && until < person.due) this.schedule(person, until);
    person.listeners.add(listener);
    const followed = person;
    return () => {
      followed.listeners.delete(listener);
      if (followed.listeners.size > 0 || this.people.get(key) !== followed) return;
      clearTimeout(followed.timer);
      this.people.delete(key);
    };
  }

  /** This person's RBAC proved different: every open stream of theirs hears a fresh scope now. */
  forgot(user: string): void {
    for (const person of this.people.values()) if (person.who.user === user) void this.run(person);
  }

  /** People followed now (for tests). */
  get size(): number {
    return this.people.size;
  }

  close(): void {
    for (const person of this.people.values()) clearTimeout(person.timer);
    this.people.clear();
  }

  private schedule(person: Person, due: number): void {
    clearTimeout(person.timer);
    person.due = Math.max(due, this.now() + MIN_REFRESH_MS);
    person.timer = setTimeout(() => void this.run(person), person.due - this.now());
    person.timer.unref();
  }

  private async run(person: Person): Promise<void> {
    if (person.refreshing) {
      person.again = true;
      return;
    }
    person.refreshing = true;
    clearTimeout(person.timer);
    let scope: StreamScope | undefined;
    try {
      scope = await this.refresh(person.who);
    } catch {
      scope = undefined;
    }
    person.refreshing = false;
    if (this.people.get(personKey(person.who)) !== person) return; // every stream of theirs closed meanwhile
    for (const listener of [...person.listeners]) {
      try {
        listener(scope?.visible);
      } catch (err) {
        this.onError(err);
      }
    }
    if (person.again) {
      person.again = false;
      void this.run(person);
      return;
    }
    this.schedule(person, scope ? scope.until : this.now() + FAILED_REFRESH_RETRY_MS);
  }
}

/** Two visibles say the same (undefined: everything). */
export function sameVisible(a: StreamVisible, b: StreamVisible): boolean {
  return sameSet(a.pools, b.pools) && sameSet(a.sessions, b.sessions);
}

function sameSet(a: Visible, b: Visible): boolean {
  if (!a || !b) return a === b;
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function personKey(who: Identity): string {
  return `${who.user}\u0000${[...who.groups].sort().join(',')}`;
}
