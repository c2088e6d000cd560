/**
 * Per-second rates from monotonically growing totals, for the "ops/s" figures of the status
 * model. A snapshot is taken about once a second per viewer, so the meter keeps the previous
 * sample and only moves it forward once at least `minWindowMs` passed: two dashboards polling
 * at once then see the same rate instead of one of them a 0-ms window.
 */
export class RateMeter {
  private lastTotal: number | undefined;
  private lastAt = 0;
  private rate = 0;

  constructor(private readonly minWindowMs = 900) {}

  /** Feeds the current total at time `nowMs`; returns the latest rate per second. */
  update(total: number, nowMs: number): number {
    if (this.lastTotal === undefined || total < this.lastTotal) {
      // First sample, or the source restarted (counters reset): start over.
      this.lastTotal = total;
      this.lastAt = nowMs;
      this.rate = 0;
      return 0;
    }
    const dt = nowMs - this.lastAt;
    if (dt >= this.minWindowMs) {
      this.rate = ((total - this.lastTotal) * 1000) / dt;
      this.lastTotal = total;
      this.lastAt = nowMs;
    }
    return this.rate;
  }
}
