// The insights charts as plain geometry for server-rendered SVG (views/partials/insights-*.eta):
// no chart library in the browser, no script, no inline style (the CSP forbids both). Each
// chart has a title, a description saying what it shows in words, and the numbers as a
// table. Times are UTC: a fragment is rendered once for every viewer, whatever their zone.
import type { Slot } from '../farm/insights/report.js';
import { FINAL_PHASES, type FinalPhase } from '../farm/insights/tally.js';
import { duration, QUEUE_WAIT_SLO_SECONDS } from '../farm/insights/verdict.js';
import type { WindowName } from '../farm/insights/window.js';

/** Each slot is 10 units wide in the SVG's own coordinates; the SVG stretches to its box. */
const W = 10;
const H = 100;

export const PHASE_CLASS: Record<FinalPhase, string> = {
  Succeeded: 'fill-emerald-500',
  Failed: 'fill-rose-500',
  TimedOut: 'fill-amber-500',
  Cancelled: 'fill-slate-400',
};

export interface ChartsView {
  width: number;
  height: number;
  /** Labels under each chart: first, middle and last slot. */
  axis: string[];
  phases: { desc: string; max: number; bars: Array<{ x: number; w: number; label: string; rects: Array<{ y: number; h: number; cls: string; phase: FinalPhase; count: number }> }> };
  wait: { desc: string; max: number; lines: string[]; slo: number | null; dots: Array<{ x: number; y: number; label: string }> };
  utilisation: { desc: string; bars: Array<{ x: number; w: number; y: number; h: number; label: string }> };
  rows: Array<{ label: string; byPhase: Record<FinalPhase, number>; p95Wait: string; utilisation: string; peak: number }>;
}

export function chartsOf(series: readonly Slot[], window: WindowName): ChartsView {
  const label = (s: Slot) => slotLabel(s.from, window);
  const n = Math.max(1, series.length);
  const total = (s: Slot) => FINAL_PHASES.reduce((sum, p) => sum + s.byPhase[p], 0);
  const maxTotal = Math.max(1, ...series.map(total));
  const bars = series.map((s, i) => {
    let y = H;
    const rects = [];
    for (const phase of FINAL_PHASES) {
      const count = s.byPhase[phase];
      if (!count) continue;
      const h = (count / maxTotal) * (H - 5);
      y -= h;
      rects.push({ y: round(y), h: round(h), cls: PHASE_CLASS[phase], phase, count });
    }
    return { x: i * W + 1, w: W - 2, label: `${label(s)}: ${FINAL_PHASES.map((p) => `${s.byPhase[p]} ${p}`).join(', ')}`, rects };
  });
  const waits = series.map((s) => s.p95WaitSeconds);
  const maxWait = Math.max(QUEUE_WAIT_SLO_SECONDS * 1.25, ...waits.map((w) => w ?? 0));
  const yOf = (v: number) => round(H - (v / maxWait) * (H - 5));
  const lines: string[] = [];
  let current: string[] = [];
  const dots: ChartsView['wait']['dots'] = [];
  series.forEach((s, i) => {
    const w = s.p95WaitSeconds;
    if (w === null) {
      if (current.length) lines.push(current.join(' '));
      current = [];
      return;
    }
    const x = i * W + W / 2;
    current.push(`${x},${yOf(w)}`);
    dots.push({ x, y: yOf(w), label: `${label(s)}: p95 wait ${duration(w)}` });
  });
  if (current.length) lines.push(current.join(' '));
  const util = series.map((s, i) => {
    const u = s.utilisation ?? 0;
    return { x: i * W, w: W, y: round(H - u * H), h: round(u * H), label: `${label(s)}: ${percent(s.utilisation)} busy, peak ${s.peakBusy}` };
  });
  const finished = series.reduce((sum, s) => sum + total(s), 0);
  const worst = series.reduce<Slot | undefined>((w, s) => ((s.p95WaitSeconds ?? -1) > (w?.p95WaitSeconds ?? -1) ? s : w), undefined);
  const busiest = series.reduce<Slot | undefined>((w, s) => ((s.utilisation ?? -1) > (w?.utilisation ?? -1) ? s : w), undefined);
  return {
    width: n * W,
    height: H,
    axis: series.length ? [label(series[0]!), label(series[Math.floor((series.length - 1) / 2)]!), label(series[series.length - 1]!)] : [],
    phases: { desc: `${finished} sessions finished; the busiest ${slotWord(window)} had ${maxTotal === 1 && finished === 0 ? 0 : maxTotal}.`, max: maxTotal, bars },
    wait: {
      desc: worst && worst.p95WaitSeconds !== null ? `The longest p95 queue wait was ${duration(worst.p95WaitSeconds)}, at ${label(worst)}; the dashed line is the ${duration(QUEUE_WAIT_SLO_SECONDS)} target.` : 'No session was assigned a device in this window.',
      max: maxWait,
      lines,
      slo: yOf(QUEUE_WAIT_SLO_SECONDS),
      dots,
    },
    utilisation: {
      desc: busiest && busiest.utilisation !== null ? `Devices were busiest at ${label(busiest)}: ${percent(busiest.utilisation)} of device time.` : 'No devices to be busy in this window.',
      bars: util,
    },
    rows: series.map((s) => ({ label: label(s), byPhase: s.byPhase, p95Wait: s.p95WaitSeconds === null ? '—' : duration(s.p95WaitSeconds), utilisation: percent(s.utilisation), peak: s.peakBusy })),
  };
}

export function percent(v: number | null): string {
  return v === null ? '—' : `${Math.round(v * 100)} %`;
}

function slotWord(window: WindowName): string {
  return window === '1h' ? '5 minutes' : window === '24h' ? 'hour' : '6 hours';
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** 14:05 for short windows, "Tue 06:00" over a week (UTC). */
function slotLabel(at: number, window: WindowName): string {
  const d = new Date(at);
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return window === '7d' ? `${DAYS[d.getUTCDay()]} ${hm}` : hm;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
