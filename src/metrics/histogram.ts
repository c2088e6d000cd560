/**
 * A latency histogram cheap enough for the request path: fixed upper bounds in a Float64Array
 * and one count per bucket, so `observe(ms)` is a short scan and an index increment (no
 * allocation, no prom-client). The admin registry reads it at scrape time and exposes it as a
 * Prometheus histogram in seconds (the base unit, per the Prometheus naming conventions).
 *
 * Counts are per bucket (not cumulative) here; cumulative `le` series are built at read time.
 * Float64 holds integers exactly up to 2^53, far past any realistic request count.
 */
import assert from "node:assert";

/**
 * Default bounds in milliseconds: 50 µs .. 5 s. Cache requests on loopback take tens of µs,
 * through a proxy a few hundred; the upper buckets catch timeouts (twemproxy `timeout`).
 */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
];

export interface HistogramSnapshot {
  /** Upper bounds in ms, ascending; the implicit last bucket is +Inf. */
  bounds: readonly number[];
  /** Cumulative counts: cumulative[i] = observations <= bounds[i]; last entry = count (+Inf). */
  cumulative: number[];
  sum: number;
  count: number;
}

export class Histogram {
  readonly bounds: Float64Array;
  /** counts[i] for bounds[i]; counts[bounds.length] is the +Inf overflow bucket. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(boundsMs: readonly number[] = LATENCY_BUCKETS_MS) {
    assert(boundsMs.length > 0, "histogram needs at least one bound");
    for (let i = 1; i < boundsMs.length; i++) {
      assert(boundsMs[i] > boundsMs[i - 1], "histogram bounds must be strictly ascending");
    }
    this.bounds = Float64Array.from(boundsMs);
    this.counts = new Float64Array(boundsMs.length + 1);
  }

  /** Records one observation in milliseconds. Hot path: no allocation. */
  observe(ms: number): void {
    const b = this.bounds;
    const n = b.length;
    let i = 0;
    // Linear scan: most observations land in the first few buckets, so this beats a
    // binary search on the 16 default bounds. Prometheus buckets are "le" (<= bound).
    while (i < n && ms > b[i]) i++;
    this.counts[i]++;
    this.sum += ms;
    this.count++;
  }

  /** A consistent copy with cumulative counts (what Prometheus `_bucket{le}` wants). */
  snapshot(): HistogramSnapshot {
    const cumulative: number[] = new Array(this.counts.length);
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i];
      cumulative[i] = acc;
    }
    return { bounds: Array.from(this.bounds), cumulative, sum: this.sum, count: this.count };
  }

  /**
   * The q-quantile in ms (0 < q <= 1), interpolated linearly inside its bucket like
   * Prometheus histogram_quantile(); NaN with no observations. For the dashboard only.
   */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = q * this.count;
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i];
      if (acc + c >= rank && c > 0) {
        // Past the last bound there is no upper edge: report the last bound, as Prometheus does.
        if (i === this.bounds.length) return this.bounds[i - 1];
        const lo = i === 0 ? 0 : this.bounds[i - 1];
        return lo + (this.bounds[i] - lo) * ((rank - acc) / c);
      }
      acc += c;
    }
    return this.bounds[this.bounds.length - 1];
  }

  /** Adds another histogram with the same bounds (e.g. per-connection into per-server). */
  merge(other: Histogram): void {
    assert(other.bounds.length === this.bounds.length, "histogram bounds differ");
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.sum += other.sum;
    this.count += other.count;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
