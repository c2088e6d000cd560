/**
 * wrr, smooth weighted round robin (nginx ngx_http_upstream_get_peer; LVS ip_vs_wrr.c gives the
 * same proportions): every pick adds each server's weight to its running score, the highest
 * score wins and pays back the total. Weights {5,1,1} give a,a,b,a,c,a,a rather than bursts.
 */
import type { Algorithm, Candidate } from "./types.js";

export function weightedRoundRobin(): Algorithm {
  const score = new Map<string, number>();
  return {
    name: "wrr",
    pick(c: readonly Candidate[]): number {
      let total = 0;
      let best = 0;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < c.length; i++) {
        const s = (score.get(c[i].id) ?? 0) + c[i].weight;
        score.set(c[i].id, s);
        total += c[i].weight;
        if (s > bestScore) {
          bestScore = s;
          best = i;
        }
      }
      score.set(c[best].id, bestScore - total);
      // Forget servers that left the set, so the map stays as small as the server list.
      if (score.size > c.length * 2) {
        const live = new Set(c.map((x) => x.id));
        for (const k of score.keys()) if (!live.has(k)) score.delete(k);
      }
      return best;
    },
  };
}
