/**
 * Interleaved rounds for the proxy bench. The machine is shared and noisy, so one sample per
 * target says little: each round measures every target once, the order alternating between
 * rounds (nutcracker first, then keepcache first) so that drift in the background load hits
 * both sides alike, and the median of each figure over the rounds is reported.
 */

/**
 * Rounds per row (BENCH_ROUNDS, default 5; odd gives a true median). On 2 cores the proxy, the
 * backend and the load generator compete for CPU, and where the scheduler puts them swings a
 * single -P 1 run by up to 40% either way for nutcracker and keepcache alike: 3 rounds left the
 * median to chance.
 */
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));

export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Measures each named target ROUNDS times, alternating the order, and returns the samples per
 * target. `measure` runs one load against one target.
 */
export async function interleave<T>(
  targets: readonly string[],
  measure: (target: string) => Promise<T>,
): Promise<Map<string, T[]>> {
  const out = new Map<string, T[]>(targets.map((t) => [t, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      const sample = await measure(t);
      // BENCH_VERBOSE=1 prints every sample (stderr), to see the spread behind a median.
      if (process.env.BENCH_VERBOSE) console.error(`round ${r} ${t}: ${JSON.stringify(sample)}`);
      out.get(t)?.push(sample);
    }
  }
  return out;
}
