// Percentiles by nearest rank: the p-th percentile of n values is the ceil(p/100·n)-th
// smallest. Always one of the observed values, so a test can name it exactly. Found by
// selection (quickselect, O(n)), not by sorting: a 7-day farm has tens of thousands.

/** Nearest-rank percentile of sorted values, null when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  return sorted[rankOf(n, p)]!;
}

const rankOf = (n: number, p: number): number => Math.min(n, Math.max(1, Math.ceil((p / 100) * n))) - 1;

/** Nearest-rank percentile of unsorted values (reorders `values`). */
export function selectPercentile(values: Float64Array, p: number): number | null {
  if (values.length === 0) return null;
  return select(values, rankOf(values.length, p));
}

/** p50, p95 and max of unsorted values (seconds; reordered), null when there are none. */
export function spread(a: Float64Array): { p50: number | null; p95: number | null; max: number | null } {
  if (a.length === 0) return { p50: null, p95: null, max: null };
  let max = a[0]!;
  for (let i = 1; i < a.length; i++) if (a[i]! > max) max = a[i]!;
  return { p50: selectPercentile(a, 50), p95: selectPercentile(a, 95), max };
}

export function mean(values: ArrayLike<number>): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** The k-th smallest (0-based) of `a`, partially reordering it (Hoare's quickselect, middle pivot). */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}
