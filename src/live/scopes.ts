// People who may see only some namespaces subscribe to scoped copies of the farm-wide topics
// ("farm~<id>", and session lists with a scope). People with the same scope share one id, so
// the scoped copy is rendered once for all of them: the cost grows with the number of
// distinct views of the farm, not of people. This registry keeps the scopes somebody uses.
import { createHash } from 'node:crypto';
import { isSessionListTopic, splitListScope, withListScope } from '../view/session-list.js';
import { splitScoped } from './topics.js';

/** What one person may see, for the farm-wide topics: namespaces per kind (undefined: all). */
export interface Scope {
  pools?: ReadonlySet<string> | undefined;
  sessions?: ReadonlySet<string> | undefined;
}

/** What an unknown scope id sees: nothing rather than everything. */
const NOTHING: Scope = { pools: new Set<string>(), sessions: new Set<string>() };

export class Scopes {
  private readonly scopes = new Map<string, Scope>();
  /** Scoped farm-wide topics ("farm~<id>", "pools~<id>") with subscribers. */
  private readonly activeScoped = new Set<string>();
  /** Scoped session-list topics with subscribers. */
  private readonly activeLists = new Set<string>();

  /** The topic a person with this scope subscribes to instead of "farm" or "pools". */
  scopedTopic(base: string, scope: Scope): string {
    const id = createHash('sha256')
      .update(JSON.stringify([scope.pools ? [...scope.pools].sort() : null, scope.sessions ? [...scope.sessions].sort() : null]))
      .digest('base64url')
      .slice(0, 16);
    this.scopes.set(id, scope);
    return `${base}~${id}`;
  }

  /** The session list topic a person with this scope subscribes to instead of `topic`. */
  scopedListTopic(topic: string, scope: Scope): string {
    return withListScope(topic, splitScoped(this.scopedTopic('farm', scope))!.id);
  }

  /** The scope behind an id; an unknown id sees nothing. */
  get(id: string): Scope {
    return this.scopes.get(id) ?? NOTHING;
  }

  /** The namespaces a scoped session list may show (undefined: all; unknown scope: none). */
  sessionNamespaces(id: string): ReadonlySet<string> | undefined {
    return this.scopes.has(id) ? this.scopes.get(id)!.sessions : NOTHING.sessions;
  }

  /** Scoped farm-wide topics with subscribers, with their scopes (known ones only). */
  *active(): Iterable<{ topic: string; base: string; id: string; scope: Scope }> {
    for (const topic of this.activeScoped) {
      const { base, id } = splitScoped(topic)!;
      const scope = this.scopes.get(id);
      if (scope) yield { topic, base, id, scope };
    }
  }

  /** Scoped farm-wide topics with subscribers: one per distinct view of the farm. */
  get activeCount(): number {
    return this.activeScoped.size;
  }

  /** The broker says a topic gained its first subscriber (true) or lost its last (false). */
  onTopic(topic: string, active: boolean): void {
    const id = isSessionListTopic(topic) ? splitListScope(topic).scopeId : splitScoped(topic)?.id;
    if (id === undefined) return;
    const set = isSessionListTopic(topic) ? this.activeLists : this.activeScoped;
    if (active) set.add(topic);
    else {
      set.delete(topic);
      this.forget(id);
    }
  }

  /** Drops a scope nobody subscribes to any more. */
  private forget(id: string): void {
    if ([...this.activeScoped].some((t) => splitScoped(t)?.id === id)) return;
    if ([...this.activeLists].some((t) => splitListScope(t).scopeId === id)) return;
    this.scopes.delete(id);
  }
}
