/**
 * Recent latency quantiles for the dashboard. A server's Histogram counts since start, so its
 * quantiles would barely move after a day of traffic; this keeps the previous bucket counts
 * and reports p50/p99 of what arrived since (windows of at least `minWindowMs`). Without new
 * observations the last window's figures stay (a quiet server is not a fast one).
 */
import { Histogram } from "../../metrics/histogram.js";

export interface Quantiles {
  p50: number | null;
  p99: number | null;
}

export class RecentQuantiles {
  private prev: Float64Array | undefined;
  private prevSum = 0;
  private prevCount = 0;
  private at = 0;
  private last: Quantiles = { p50: null, p99: null };

  constructor(private readonly minWindowMs = 900) {}

  update(h: Histogram, now: number): Quantiles {
    if (this.prev !== undefined && now - this.at < this.minWindowMs) return this.last;
    const delta = new Histogram(Array.from(h.bounds));
    if (this.prev === undefined || h.count < this.prevCount) {
      // First look (or the histogram was reset): everything so far is the window.
      delta.merge(h);
    } else {
      for (let i = 0; i < h.counts.length; i++) delta.counts[i] = h.counts[i] - this.prev[i];
      delta.sum = h.sum - this.prevSum;
      delta.count = h.count - this.prevCount;
    }
    this.prev = Float64Array.from(h.counts);
    this.prevSum = h.sum;
    this.prevCount = h.count;
    this.at = now;
    if (delta.count > 0) {
      this.last = { p50: round(delta.quantile(0.5)), p99: round(delta.quantile(0.99)) };
    }
    return this.last;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
