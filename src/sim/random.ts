// Seeded randomness. Each object (a device, a session) gets its own stream derived from the
// seed and its name, so what happens to it does not depend on what else exists or on when
// the simulator's ticks happen to run: the same seed gives the same story.

export type Random = () => number;

/** mulberry32: small, fast, good enough for a simulation. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, for deriving per-object seeds. */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function streamFor(seed: number, ...parts: string[]): Random {
  return mulberry32(hash(`${seed}/${parts.join('/')}`));
}

/** A duration around `meanMs`, log-normally spread: mostly near the mean, sometimes much longer. */
export function logNormal(random: Random, meanMs: number, spread = 0.35): number {
  // Box-Muller on two draws.
  const u = Math.max(random(), 1e-9);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.round(meanMs * Math.exp(spread * z - (spread * spread) / 2));
}

export function between(random: Random, min: number, max: number): number {
  return Math.floor(min + random() * (max - min + 1));
}
