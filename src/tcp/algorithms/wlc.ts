/**
 * wlc (LVS ip_vs_wlc.c): the lowest active/weight, compared by cross-multiplication
 * (a1 * w2 < a2 * w1) as LVS does to avoid division.
 */
import type { Algorithm, Candidate } from "./types.js";

export function weightedLeastConnections(): Algorithm {
  return {
    name: "wlc",
    pick(c: readonly Candidate[]): number {
      let best = 0;
      for (let i = 1; i < c.length; i++)
        if (c[i].active * c[best].weight < c[best].active * c[i].weight) best = i;
      return best;
    },
  };
}
