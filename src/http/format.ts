// How times read on the pages: short durations an operator scans at a glance, and
// timestamps in ISO form (UTC) for the title attribute and <time datetime>.

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

/** "3m 12s ago" relative to now. */
export function ago(at: number | undefined, now: number): string {
  const d = at === undefined ? '' : formatDuration(Math.max(0, now - at));
  return d && `${d} ago`;
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
