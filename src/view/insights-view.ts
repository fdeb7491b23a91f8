// What the /insights page shows, from a report: the farm's figures as tiles, the charts,
// verdicts, suspect devices, failure reasons and per-pool and per-template tables, with
// every href built here (templates only print). Rendered once per change for every viewer
// of the same filters (the `insights?…` topic), so nothing depends on the viewer.
import type { InsightsQuery } from '../farm/insights/insights.js';
import type { FarmInsightsReport, Figures } from '../farm/insights/report.js';
import { duration } from '../farm/insights/verdict.js';
import { WINDOW_NAMES, WINDOWS } from '../farm/insights/window.js';
import { isoTime } from './format.js';
import { deviceHref, poolHref, sessionHref } from './links.js';
import { chartsOf, percent } from './insights-charts.js';
import { insightsSearch } from './insights-query.js';

export const INSIGHTS_ID = 'insights-body';

const secs = (v: number | null) => (v === null ? '—' : duration(v));

function tiles(f: Figures, farm: boolean) {
  return [
    { label: 'Sessions finished', value: String(f.sessions.finished), hint: `${f.sessions.Succeeded} succeeded, ${f.sessions.Failed} failed, ${f.sessions.TimedOut} timed out, ${f.sessions.Cancelled} cancelled` },
    { label: 'Pass rate', value: percent(f.passRate), hint: `tests: ${percent(f.testsPassRate)} passed` },
    { label: 'Queue wait p50 / p95', value: `${secs(f.queueWaitSeconds.p50)} / ${secs(f.queueWaitSeconds.p95)}`, hint: `max ${secs(f.queueWaitSeconds.max)}; ${f.sessions.waiting} waiting now` },
    { label: 'Run time p50 / p95', value: `${secs(f.runSeconds.p50)} / ${secs(f.runSeconds.p95)}`, hint: `${f.sessions.running} holding a device now` },
    { label: 'Utilisation', value: percent(f.utilisation), hint: farm ? `${f.devices} devices; the busiest pool peaked at ${f.peakBusy} busy at once` : `peak ${f.peakBusy} of ${f.devices} devices busy at once` },
    { label: 'Boot p50 / p95', value: `${secs(f.bootSeconds.p50)} / ${secs(f.bootSeconds.p95)}`, hint: `Unhealthy now: ${percent(f.unhealthyShare)}` },
  ];
}

export function insightsView(r: FarmInsightsReport, q: InsightsQuery, now: number) {
  const href = (over: Partial<InsightsQuery>) => `/insights?${insightsSearch({ ...q, ...over })}`;
  const ref = (s: { namespace: string; name: string }) => ({ name: s.name, href: sessionHref(s.namespace, s.name) });
  const one = r.pools.length === 1 ? r.pools[0]! : undefined;
  return {
    id: INSIGHTS_ID,
    window: r.window,
    windowLabel: WINDOWS[r.window].label,
    windows: WINDOW_NAMES.map((w) => ({ name: w, href: href({ window: w }), current: w === r.window })),
    generatedAt: isoTime(now),
    coverage: {
      complete: r.coverage.complete,
      oldest: r.coverage.oldestSession === null ? '' : isoTime(r.coverage.oldestSession),
      covered: r.coverage.oldestSession === null ? '' : duration(Math.max(0, now - r.coverage.oldestSession) / 1000),
    },
    scope: one ? `pool ${one.namespace}/${one.pool}` : q.namespace || q.template ? [q.namespace && `namespace ${q.namespace}`, q.template && `template ${q.template}`].filter(Boolean).join(', ') : 'the whole farm',
    tiles: tiles(one ?? r.farm, !one),
    charts: chartsOf(one ? one.series : r.farm.series, r.window),
    verdicts: r.pools.map((p) => ({ pool: p.pool, namespace: p.namespace, href: poolHref(p.namespace, p.pool), status: p.verdict.status, summary: p.verdict.summary, evidence: p.verdict.evidence })),
    suspects: r.pools.flatMap((p) =>
      p.suspectDevices.map((d) => ({
        device: d.device,
        pool: p.pool,
        href: deviceHref(p.namespace, p.pool, d.device),
        rate: percent(d.failureRate),
        poolRate: percent(d.poolFailureRate),
        sessions: d.sessions,
        failed: d.failed,
        p: d.pValue < 0.0001 ? '< 0.0001' : d.pValue.toFixed(4),
        recent: d.recentFailures.map(ref),
      })),
    ),
    likelyApp: r.pools.flatMap((p) => p.likelyApp.map((a) => ({ ...a, pool: p.pool, rate: percent(a.failureRate) }))),
    reasons: (one ?? r.farm).topFailureReasons.map((x) => ({ reason: x.reason, count: x.count, sessions: x.sessions.map(ref) })),
    pools: r.pools.map((p) => ({
      name: p.pool,
      namespace: p.namespace,
      href: href({ pool: p.pool, namespace: p.namespace }),
      poolHref: poolHref(p.namespace, p.pool),
      finished: p.sessions.finished,
      passRate: percent(p.passRate),
      wait: `${secs(p.queueWaitSeconds.p50)} / ${secs(p.queueWaitSeconds.p95)}`,
      run: `${secs(p.runSeconds.p50)} / ${secs(p.runSeconds.p95)}`,
      utilisation: percent(p.utilisation),
      status: p.verdict.status,
    })),
    templates: r.templates.map((t) => ({
      name: t.template,
      href: href({ template: t.template, pool: undefined }),
      pools: t.pools,
      finished: t.sessions.finished,
      passRate: percent(t.passRate),
      wait: `${secs(t.queueWaitSeconds.p50)} / ${secs(t.queueWaitSeconds.p95)}`,
      run: `${secs(t.runSeconds.p50)} / ${secs(t.runSeconds.p95)}`,
      utilisation: percent(t.utilisation),
    })),
  };
}
