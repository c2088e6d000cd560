/**
 * sh, source hashing (LVS ip_vs_sh.c): a client IP always maps to the same server while the
 * server set is unchanged. LVS fills a 256-bucket table; we use weighted rendezvous hashing
 * instead, which has the same stability and weight proportions and moves only the clients of a
 * server that leaves (LVS's table moves more) without building a table per snapshot.
 */
import type { Algorithm, Candidate } from "./types.js";

/** FNV-1a 32-bit over a string's UTF-16 code units, then a murmur3 finalizer for spread. */
export function hash32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function sourceHash(): Algorithm {
  return {
    name: "sh",
    pick(c: readonly Candidate[], ctx): number {
      const base = hash32(ctx.clientIp);
      let best = 0;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < c.length; i++) {
        // Weighted rendezvous (Schindelhauer & Schomaker): score = -w / ln(u), u in (0,1).
        const u = (hash32(c[i].id, base) + 0.5) / 4294967296;
        const score = -c[i].weight / Math.log(u);
        if (score > bestScore) {
          bestScore = score;
          best = i;
        }
      }
      return best;
    },
  };
}
