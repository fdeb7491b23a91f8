// Simulated time: it advances by tick × speed, so a run of simulated minutes can take real
// seconds; what is written for a person to read is wall-clock time, mapped back.

export class SimClock {
  /** Simulated milliseconds since the simulator started. */
  now = 0;

  constructor(private readonly speed: number) {}

  /** One tick of `tickMs` real milliseconds: returns the simulated time it covers. */
  advance(tickMs: number): number {
    const step = tickMs * this.speed;
    this.now += step;
    return step;
  }

  /** Wall-clock RFC 3339 time (seconds), as Kubernetes writes it; `simAt` maps simulated time back. */
  stamp(simAt?: number): string {
    const wall = simAt === undefined ? Date.now() : Date.now() - (this.now - simAt) / this.speed;
    return new Date(wall).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}
