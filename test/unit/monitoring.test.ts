// deploy/monitoring ships a PrometheusRule and a Grafana dashboard: both parse, and every
// expression in them names only metrics the dashboard's /metrics really exports (a renamed
// metric would otherwise leave an alert that never fires and a panel that stays empty).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, ROOT } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';

const MONITORING = join(ROOT, 'deploy', 'monitoring');

/** Metric names an expression uses (label names and functions never start with droidfarm_). */
const metricsIn = (expr: string): string[] => [...expr.matchAll(/\b(droidfarm_[a-z0-9_]+)\b/g)].map((m) => m[1]!);

describe('deploy/monitoring', () => {
  let app: FastifyInstance;
  let exported: Set<string>;

  beforeAll(async () => {
    app = await buildApp(loadConfig({ argv: ['--demo', '--log-level', 'silent'], env: {} })!, { cluster: new MemoryCluster() });
    await app.ready();
    const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    exported = new Set();
    for (const [, name, type] of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(name!);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(name! + suffix);
      if (type === 'summary') for (const suffix of ['_sum', '_count']) exported.add(name! + suffix);
    }
  });
  afterAll(async () => {
    await app?.close();
  });

  it('exports the insights gauges the rules use', () => {
    for (const name of ['droidfarm_pool_queue_wait_p95_seconds', 'droidfarm_pool_utilisation_ratio', 'droidfarm_pool_bottleneck', 'droidfarm_pool_suspect_devices']) expect(exported).toContain(name);
  });

  it('has a PrometheusRule whose every expression uses exported metrics', () => {
    const rule = loadYaml(readFileSync(join(MONITORING, 'prometheus-rule.yaml'), 'utf8')) as {
      apiVersion: string;
      kind: string;
      spec: { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; for: string }> }> };
    };
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.kind).toBe('PrometheusRule');
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert).sort()).toEqual(['DroidFarmNoIdleDeviceWhileSessionsWait', 'DroidFarmPoolBottleneck', 'DroidFarmQueueWaitOverSLO', 'DroidFarmSuspectDevice', 'DroidFarmUnhealthyShareHigh']);
    for (const r of rules) {
      const used = metricsIn(r.expr);
      expect(used.length, r.alert).toBeGreaterThan(0);
      for (const name of used) expect(exported.has(name), `${r.alert}: ${name}`).toBe(true);
    }
  });

  it('has a Grafana dashboard whose every panel query uses exported metrics', () => {
    const dashboard = JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    expect(dashboard.panels.length).toBeGreaterThan(5);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const t of panel.targets) {
        const used = metricsIn(t.expr);
        expect(used.length, `${panel.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const name of used) expect(exported.has(name), `${panel.title}: ${name}`).toBe(true);
      }
    }
  });
});
