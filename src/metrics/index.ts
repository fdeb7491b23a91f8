// Everything /metrics reports, for one app: the farm (from the store), the dashboard's own
// streams, watches and rendering, and Node's process figures. Every name starts with
// droidfarm_ and no label holds a device or session name, so the series stay bounded.
// docs/metrics.md describes each metric.
import { Registry } from 'prom-client';
import type { FarmStore } from '../farm/store.js';
import type { Render } from '../live/broker.js';
import { DashboardMetrics, type DashboardSources } from './dashboard-metrics.js';
import { FarmMetrics } from './farm-metrics.js';
import { registerInsightsMetrics, type InsightsSource } from './insights-metrics.js';
import { PREFIX, processMetrics, totalsCounter } from './registry.js';

export interface MetricsSources extends DashboardSources {
  store: FarmStore;
  /** The last hour's insights report, for the per-pool queue wait and utilisation gauges. */
  insights?: InsightsSource;
}

export class Metrics {
  private readonly registry = new Registry();
  private readonly farm: FarmMetrics;
  private readonly dashboard: DashboardMetrics;

  /** Subscribes to the store at once: create it before the watches start, so the first list is seen as such. */
  constructor(sources: MetricsSources) {
    this.farm = new FarmMetrics(this.registry, sources.store);
    this.dashboard = new DashboardMetrics(this.registry, sources);
    if (sources.insights) registerInsightsMetrics(this.registry, sources.insights);
    const errors = sources.store.errors;
    totalsCounter(
      this.registry,
      `${PREFIX}internal_errors_total`,
      'Failures caught inside the dashboard (each also logged at error level), by where they were caught. Anything above 0 is a bug to report.',
      ['where'],
      () => errors.totals().map(([where, n]) => [{ where }, n] as const),
    );
  }

  /** Wraps a fragment render function to time it. */
  timed(render: Render): Render {
    return this.dashboard.timed(render);
  }

  /** The Prometheus text exposition of this app's metrics and the process's. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([processMetrics(), this.registry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  close(): void {
    this.farm.close();
  }
}
