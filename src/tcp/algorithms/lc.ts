/** lc (LVS ip_vs_lc.c): the server with the fewest active connections; weight only gates use. */
import type { Algorithm, Candidate } from "./types.js";

export function leastConnections(): Algorithm {
  return {
    name: "lc",
    pick(c: readonly Candidate[]): number {
      let best = 0;
      for (let i = 1; i < c.length; i++) if (c[i].active < c[best].active) best = i;
      return best;
    },
  };
}
