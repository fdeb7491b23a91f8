// The M/M/c queue (Poisson arrivals, exponential run times, c devices), the textbook model
// for "how many servers keep the wait short": Erlang C gives the chance a session waits,
// and the wait beyond zero is exponential with rate cμ − λ. Real test suites are not
// exponential, so the figures are estimates; docs/insights.md says how they are used.

/** Probability that an arriving session has to wait, with offered load a = λ/μ on c devices. */
export function erlangC(c: number, a: number): number {
  if (c <= 0) return 1;
  if (a <= 0) return 0;
  if (a >= c) return 1;
  // Erlang B by its stable recurrence, then C from B.
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  const rho = a / c;
  return b / (1 - rho * (1 - b));
}

/** The q-quantile of the wait (seconds), Infinity when the queue grows without bound. */
export function waitQuantile(c: number, lambda: number, mu: number, q: number): number {
  if (lambda <= 0) return 0;
  if (c * mu <= lambda) return Number.POSITIVE_INFINITY;
  const pw = erlangC(c, lambda / mu);
  if (pw <= 1 - q) return 0;
  return Math.log(pw / (1 - q)) / (c * mu - lambda);
}

/** The fewest devices that keep the q-quantile of the wait at or under `target` seconds. */
export function devicesFor(lambda: number, mu: number, q: number, target: number, max = 10_000): number | null {
  if (lambda <= 0) return 0;
  for (let c = Math.max(1, Math.floor(lambda / mu)); c <= max; c++) {
    if (waitQuantile(c, lambda, mu, q) <= target) return c;
  }
  return null;
}
