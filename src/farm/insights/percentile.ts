// Percentiles by nearest rank: the p-th percentile of n values is the ceil(p/100·n)-th
// smallest. Always one of the observed values, so a test can name it exactly.
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[Math.min(n, rank) - 1]!;
}

/** p50, p95 and max of unsorted values (seconds), null when there are none. */
export function spread(values: readonly number[]): { p50: number | null; p95: number | null; max: number | null } {
  const sorted = Float64Array.from(values).sort();
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.length ? sorted[sorted.length - 1]! : null };
}

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
