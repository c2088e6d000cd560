/**
 * leastconn (HAProxy lb_fwlc.c): the lowest (active + 1) / weight, and round robin among
 * servers that tie, so an idle farm is still spread evenly rather than piling on the first.
 */
import type { Algorithm, Candidate } from "./types.js";

export function haproxyLeastConn(): Algorithm {
  let start = 0;
  return {
    name: "leastconn",
    pick(c: readonly Candidate[]): number {
      const n = c.length;
      const s = start % n;
      let best = s;
      for (let k = 1; k < n; k++) {
        const i = (s + k) % n;
        if ((c[i].active + 1) * c[best].weight < (c[best].active + 1) * c[i].weight) best = i;
      }
      start = (best + 1) % 0x7fffffff;
      return best;
    },
  };
}
