// Registries for /metrics. Node's own figures (CPU, memory, event loop, GC) belong to the
// process, so they live in one registry per process, made once: prom-client starts
// observers for them that are never stopped, and several apps in one process (the tests)
// must not register them twice. Everything an app knows lives in that app's own registry.
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/** Every metric this dashboard exports starts with this. */
export const PREFIX = 'droidfarm_';

let processRegistry: Registry | undefined;

/** prom-client's default Node process metrics, with the droidfarm_ prefix. */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: PREFIX });
  }
  return processRegistry;
}

export type Labels<L extends string> = Record<L, string>;

/**
 * A counter whose value is a running total kept by another component (the broker's sends,
 * an informer's restarts), read at scrape time. The component never lowers its totals, so
 * the series only goes up while the process lives; nothing is incremented twice.
 */
export function totalsCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<readonly [Labels<L>, number]>,
): Counter<L> {
  return new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

/** Remembers the most recent keys only, so a long-lived process never grows without bound. */
export class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly max: number) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    if (this.keys.size > this.max) this.keys.delete(this.keys.values().next().value!);
  }

  get size(): number {
    return this.keys.size;
  }
}
