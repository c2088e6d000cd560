/** rr (LVS ip_vs_rr.c): each new connection goes to the next server in turn, ignoring weight. */
import type { Algorithm, Candidate } from "./types.js";

export function roundRobin(): Algorithm {
  let next = 0;
  return {
    name: "rr",
    pick(c: readonly Candidate[]): number {
      const i = next % c.length;
      next = (i + 1) % 0x7fffffff;
      return i;
    },
  };
}
