// How times read on the pages: short durations an operator scans at a glance, and
// timestamps as one TimeView everywhere: relative text ("4 min ago") in a <time datetime>
// that public/app.js titles with the viewer's own local time and keeps fresh. Fragments
// are rendered once for every viewer, so nothing here may depend on the viewer's zone.

/** 45s, 3m 12s, 1h 04m, 2d 3h. Negative or unknown: an empty string. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** 2026-11-23T16:04:05Z, or '' when unknown. */
export function isoTime(at: number | undefined): string {
  return at === undefined ? '' : new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A moment as every page shows it (views/partials/time.eta). */
export interface TimeView {
  /** 2026-11-23T16:04:05Z, for <time datetime>: what the browser reads. */
  iso: string;
  /** "4 min ago" as of rendering; the browser re-computes it from iso. */
  relative: string;
  /** "2026-11-23 16:04:05 UTC": the hover text until the browser puts local time there. */
  utc: string;
}

/** The one way pages get a time. Unknown: undefined (the partial shows a dash). */
export function timeView(at: number | undefined, now: number): TimeView | undefined {
  if (at === undefined || !Number.isFinite(at)) return undefined;
  const iso = isoTime(at);
  return { iso, relative: relativeTime(at, now), utc: `${iso.replace('T', ' ').replace('Z', '')} UTC` };
}

/**
 * "just now", "40 s ago", "4 min ago", "3 h ago", "12 d ago", or "in 2 min" for a clock
 * ahead of ours. public/app.js has the same rules (relativeTime there): keep them together.
 */
export function relativeTime(at: number, now: number): string {
  const delta = now - at;
  const s = Math.floor(Math.abs(delta) / 1000);
  if (s < 10) return 'just now';
  let text: string;
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min`;
  else if (s < 86_400) text = `${Math.floor(s / 3600)} h`;
  else text = `${Math.floor(s / 86_400)} d`;
  return delta < 0 ? `in ${text}` : `${text} ago`;
}

/** 812 B, 4.2 KiB, 18.0 MiB, 1.3 GiB. Unknown: ''. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** The first non-empty line of a message, short enough for a tile. */
export function firstLine(message: string): string {
  const line = message.split(/\r\n|\r|\n/).find((l) => l.trim() !== '') ?? '';
  return line.length > 80 ? `${line.slice(0, 79)}...` : line;
}
