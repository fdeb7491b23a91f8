// One-sided binomial test: how likely k or more failures in n sessions are when each fails
// with probability p. The first term in log space, the rest by the ratio of successive
// terms, stopping once they no longer change the sum: a device with thousands of sessions
// costs tens of steps, not thousands of exp/log calls.

export function binomialTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const odds = p / (1 - p);
  let term = Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
  let sum = term;
  for (let i = k; i < n; i++) {
    term *= ((n - i) / (i + 1)) * odds;
    sum += term;
    // Past the mode the terms only shrink: stop when they no longer count.
    if (i + 1 > n * p && term < sum * 1e-15) break;
  }
  return Math.min(1, sum);
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

const LOG_FACT: number[] = [0];
function logFactorial(n: number): number {
  for (let i = LOG_FACT.length; i <= n; i++) LOG_FACT[i] = LOG_FACT[i - 1]! + Math.log(i);
  return LOG_FACT[n]!;
}
