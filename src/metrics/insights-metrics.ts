// The insights figures Prometheus can keep past the cluster's retention: per pool, over
// the last hour, computed at scrape time from the same report /insights shows (one report
// per scrape, shared by every gauge). Labels are namespace and pool only: bounded.
import { Gauge, type Registry } from 'prom-client';
import type { FarmInsightsReport, PoolInsights } from '../farm/insights/report.js';
import { PREFIX } from './registry.js';

export type InsightsSource = () => FarmInsightsReport;

interface PoolGauge {
  name: string;
  help: string;
  value: (p: PoolInsights) => number | null;
}

export const INSIGHTS_GAUGES: readonly PoolGauge[] = [
  { name: 'pool_queue_wait_p50_seconds', help: 'Median queue wait (creation to assignment) of the sessions assigned in the last hour.', value: (p) => p.queueWaitSeconds.p50 },
  { name: 'pool_queue_wait_p95_seconds', help: '95th percentile queue wait of the sessions assigned in the last hour.', value: (p) => p.queueWaitSeconds.p95 },
  { name: 'pool_queue_oldest_wait_seconds', help: 'How long the oldest Pending session of the pool has been waiting (0 when none waits).', value: (p) => p.verdict.evidence.oldestWaitSeconds ?? 0 },
  { name: 'pool_utilisation_ratio', help: 'Busy device-seconds over available device-seconds in the last hour (0 to 1).', value: (p) => p.utilisation },
  { name: 'pool_pass_ratio', help: 'Succeeded over finished sessions in the last hour.', value: (p) => p.passRate },
  { name: 'pool_unhealthy_ratio', help: 'Share of the pool\'s devices that are Unhealthy now.', value: (p) => p.unhealthyShare },
  { name: 'pool_bottleneck', help: '1 when the pool is a bottleneck (sessions wait past the SLO with no idle device), else 0.', value: (p) => (p.bottleneck ? 1 : 0) },
  { name: 'pool_devices_needed', help: 'Devices the M/M/c estimate says would keep the p95 queue wait under the SLO at the last hour\'s load (docs/insights.md).', value: (p) => p.verdict.evidence.devicesNeeded },
  { name: 'pool_suspect_devices', help: 'Devices failing far more than the rest of their pool in the last hour (one-sided binomial test, p < 0.01, at least 5 sessions).', value: (p) => p.suspectDevices.length },
];

export function registerInsightsMetrics(registry: Registry, source: InsightsSource): void {
  let current: FarmInsightsReport | undefined;
  const report = (): FarmInsightsReport => {
    if (!current) {
      current = source();
      setImmediate(() => (current = undefined));
    }
    return current;
  };
  for (const g of INSIGHTS_GAUGES) {
    new Gauge({
      name: `${PREFIX}${g.name}`,
      help: g.help,
      labelNames: ['namespace', 'pool'],
      registers: [registry],
      collect() {
        this.reset();
        for (const p of report().pools) {
          const v = g.value(p);
          // No figure (nothing assigned in the hour, no devices): no sample, rather than a made-up 0.
          if (v !== null) this.set({ namespace: p.namespace, pool: p.pool }, v);
        }
      },
    });
  }
}
