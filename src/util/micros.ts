/**
 * A monotonic microsecond clock that does not allocate, for per-request timestamps.
 *
 * The proxy stamps every request when it is sent and measures it when its reply arrives, for
 * the per-server latency histograms (admin /metrics). In Node 20 `performance.now()` and
 * `Date.now()` return heap numbers (and performance.now() an hrtime pair as well), so at
 * hundreds of thousands of requests per second they were a visible share of young-generation
 * garbage, hence of scavenge pauses. `process.hrtime()` fills a shared typed array in C++ and
 * returns a pair that optimized code does not need to materialize, and the value built here is
 * a small integer (a Smi), stored in a request without a heap number.
 *
 * The value wraps every WRAP µs (1000 s); `elapsedMs` is exact for intervals shorter than that,
 * which every request is (timeouts are far shorter).
 */
const hrtime = process.hrtime;
const WRAP = 1_000_000_000;

/** Microseconds on a monotonic clock, modulo 1000 s. */
export function monoMicros(): number {
  const t = hrtime();
  return (t[0] % 1000) * 1_000_000 + ((t[1] / 1000) | 0);
}

/** Milliseconds from a monoMicros() reading until `now` (another reading, default: now). */
export function elapsedMs(fromMicros: number, now = monoMicros()): number {
  return ((now - fromMicros + WRAP) % WRAP) / 1000;
}
