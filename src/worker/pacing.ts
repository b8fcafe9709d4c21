/** Step pacing for the worker: a steps-per-second estimate and a throttle for 'step' messages. */

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Steps per second over a sliding window of recent steps. The window restarts at the first step of
 * each epoch (validation time is not step time) and after a pause; between restarts the last
 * estimate is kept, so the figure never drops to zero mid-run.
 */
export class StepRate {
  private times: number[] = [];
  private last = 0;

  constructor(
    private readonly window = 20,
    private readonly clock: () => number = now,
  ) {}

  reset(): void {
    this.times = [];
  }

  /** Records a step (`step` is 1-based within the epoch); returns the current estimate. */
  tick(step: number): number {
    const t = this.clock();
    if (step === 1) this.times = [];
    this.times.push(t);
    if (this.times.length > this.window + 1) this.times.shift();
    const n = this.times.length;
    if (n >= 2) {
      const span = (this.times[n - 1] - this.times[0]) / 1000;
      if (span > 0) this.last = (n - 1) / span;
    }
    return this.last;
  }
}

/** At most one message per `intervalMs`; `force` (the last step of an epoch) always goes through. */
export class StepThrottle {
  private lastSent = -Infinity;

  constructor(
    private readonly intervalMs = 50,
    private readonly clock: () => number = now,
  ) {}

  reset(): void {
    this.lastSent = -Infinity;
  }

  shouldSend(force = false): boolean {
    const t = this.clock();
    if (force || t - this.lastSent >= this.intervalMs) {
      this.lastSent = t;
      return true;
    }
    return false;
  }
}
