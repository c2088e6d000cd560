/**
 * twemproxy's ketama (src/hashkit/nc_ketama.c, libmemcached-compatible): every live server gets
 * floor(weight/total * 160/4 * nlive) * 4 points; point group i hashes "<name>-<i>" with MD5 and
 * each of the digest's four little-endian words is one point. A key goes to the first point
 * >= its hash, wrapping to the lowest. The per-server count is computed in C `float`
 * (Math.fround at each step), since rounding there moves points.
 */

import { md5Digest } from "../hash/md5.js";
import type { HashFn } from "../hash/types.js";
import type { Distribution, DistributionServer, Picker } from "./types.js";

const POINTS_PER_SERVER = 160;
const POINTS_PER_HASH = 4;

/** The sorted continuum: values and the server index of each. */
export function ketamaContinuum(servers: readonly DistributionServer[]): {
  values: Uint32Array;
  index: Int32Array;
  live: number;
} {
  let nlive = 0;
  let total = 0;
  for (const s of servers) {
    if (s.live === false) continue;
    nlive++;
    total += s.weight;
  }
  const points: { value: number; index: number }[] = [];
  if (nlive > 0) {
    const f = Math.fround;
    servers.forEach((s, idx) => {
      if (s.live === false) return;
      const pct = f(f(s.weight) / f(total));
      const x = f(f(f(pct * POINTS_PER_SERVER) / 4) * f(nlive));
      const perServer = Math.floor(f(x + 0.0000000001)) * 4;
      for (let p = 0; p < perServer / POINTS_PER_HASH; p++) {
        const d = md5Digest(`${s.name}-${p}`);
        for (let a = 0; a < POINTS_PER_HASH; a++)
          points.push({ value: d.readUInt32LE(a * 4), index: idx });
      }
    });
  }
  // qsort in C is not stable; equal values (a 2^-32 event per pair) may order differently.
  points.sort((p, q) => p.value - q.value);
  return {
    values: Uint32Array.from(points, (p) => p.value),
    index: Int32Array.from(points, (p) => p.index),
    live: nlive,
  };
}

export const ketama: Distribution = {
  name: "ketama",
  build(servers: readonly DistributionServer[], hash: HashFn): Picker {
    const { values, index, live } = ketamaContinuum(servers);
    const n = values.length;
    return {
      live,
      pick(key, start, end) {
        if (n === 0) return -1;
        const h = hash(key, start, end);
        // ketama_dispatch: lower bound of h, wrapping past the end to the first point.
        let lo = 0;
        let hi = n;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (values[mid] < h) lo = mid + 1;
          else hi = mid;
        }
        return index[lo === n ? 0 : lo];
      },
    };
  },
};
