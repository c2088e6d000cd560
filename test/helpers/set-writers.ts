/**
 * Writers for the resharding tests: each one SETs its own keys through its client until
 * stopped (bounded in count), keeping the last acknowledged value per key and every error, so
 * a test can check that nothing acknowledged was lost and that no client saw an error.
 */
import type { Redis } from "ioredis";

export interface SetWriters {
  readonly acked: Map<string, string>;
  readonly errors: string[];
  /** Stops every writer and waits for its last command. */
  stop(): Promise<void>;
}

/** One writer per client; writer `w`'s i-th write goes to `key(w, i)` (keys of its own). */
export function startSetWriters(
  clients: readonly Redis[],
  key: (w: number, i: number) => string,
): SetWriters {
  const acked = new Map<string, string>();
  const errors: string[] = [];
  let stopped = false;
  const run = async (c: Redis, w: number) => {
    for (let i = 0; !stopped && i < 100_000; i++) {
      const k = key(w, i);
      const v = `${w}-${i}`;
      try {
        await c.set(k, v);
        acked.set(k, v);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  };
  const all = clients.map(run);
  return {
    acked,
    errors,
    stop: async () => {
      stopped = true;
      await Promise.all(all);
    },
  };
}
