// Who listens to what: the broker's connected clients by topic. A topic's epoch is bumped
// when it loses its last subscriber: from then on changes to it may go untracked (session
// lists are followed only while watched), so a snapshot rendered before is not reused.
import type { LiveClient } from './client.js';
import { EVERYONE } from './sent-events.js';

export class Subscribers {
  readonly all = new Set<LiveClient>();
  private readonly byTopic = new Map<string, Set<LiveClient>>();
  private readonly epochs = new Map<string, number>();

  /** Adds a client; returns the topics it is the first subscriber of. */
  add(client: LiveClient): string[] {
    this.all.add(client);
    const activated: string[] = [];
    for (const topic of client.topics) {
      let set = this.byTopic.get(topic);
      if (!set) this.byTopic.set(topic, (set = new Set()));
      set.add(client);
      if (set.size === 1) activated.push(topic);
    }
    return activated;
  }

  /** Removes a client; `lost` is told each topic that has no subscriber left. */
  remove(client: LiveClient, lost: (topic: string) => void): void {
    this.all.delete(client);
    for (const topic of client.topics) {
      const set = this.byTopic.get(topic);
      set?.delete(client);
      if (set?.size === 0) {
        this.byTopic.delete(topic);
        this.epochs.set(topic, (this.epochs.get(topic) ?? 0) + 1);
        lost(topic);
      }
    }
  }

  /** The clients of a topic now ('*': everyone); undefined when it has none. */
  of(topic: string): Set<LiveClient> | undefined {
    return topic === EVERYONE ? this.all : this.byTopic.get(topic);
  }

  /** The topic's activation epoch, or -1 when it has no subscriber. */
  epochOf(topic: string): number {
    return (this.byTopic.get(topic)?.size ?? 0) > 0 ? (this.epochs.get(topic) ?? 0) : -1;
  }
}
