// The farm overview's and the pools list's view models: one card per pool, and the strip of
// what needs an operator's look, with every link built here, not in the templates.
import type { FarmAttention } from '../farm/attention.js';
import type { FarmInsights } from '../farm/insights/insights.js';
import { summarisePool, type PoolSummary } from '../farm/stats.js';
import type { PoolView } from '../farm/types.js';
import { domId } from './dom-id.js';
import { firstLine } from './format.js';
import { deviceHref, poolHref } from './links.js';

export type PoolCard = PoolSummary & { id: string; rowId: string; href: string };

/** A pool as its card (overview) and its row (pools list) show it. */
export function poolCard(pool: PoolView): PoolCard {
  return { ...summarisePool(pool), id: domId('pool-card', pool.namespace, pool.name), rowId: domId('pool-row', pool.namespace, pool.name), href: poolHref(pool.namespace, pool.name) };
}

/** The attention strip: unhealthy devices, waiting sessions, failures and bottlenecks among `pools`. */
export function attentionView(attention: FarmAttention, insights: FarmInsights, pools: readonly PoolView[], now: number, scope?: Parameters<FarmAttention['view']>[2]) {
  const a = attention.view(now, 5, scope);
  const bottlenecks = pools
    .map((p) => ({ namespace: p.namespace, pool: p.name, verdict: insights.verdictOf(p.namespace, p.name, now) }))
    .filter((b) => b.verdict.status === 'bottleneck')
    .map((b) => ({ pool: b.pool, summary: b.verdict.summary, href: poolHref(b.namespace, b.pool) }));
  return {
    ...a,
    calm: a.calm && bottlenecks.length === 0,
    bottlenecks,
    insightsHref: '/insights',
    unhealthy: a.unhealthy.map((d) => ({ ...d, reason: firstLine(d.reason), href: deviceHref(d.namespace, d.pool, d.device) })),
    waiting: a.waiting.map((w) => ({ ...w, href: poolHref(w.namespace, w.pool) })),
    failedHref: '/sessions?phase=Failed&phase=TimedOut',
  };
}
