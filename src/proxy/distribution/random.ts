/**
 * twemproxy's random (src/hashkit/nc_random.c): one slot per live server, weights ignored, a
 * uniformly random slot per request. The key and hash are not used.
 */
import type { HashFn } from "../hash/types.js";
import { twemproxyOrder } from "./order.js";
import type { Distribution, DistributionServer, Picker } from "./types.js";

export const random: Distribution = {
  name: "random",
  build(servers: readonly DistributionServer[], _hash: HashFn): Picker {
    const slots = Int32Array.from(
      twemproxyOrder(servers.map((s) => s.name)).filter((i) => servers[i].live !== false),
    );
    const n = slots.length;
    return {
      live: n,
      pick() {
        return n === 0 ? -1 : slots[Math.floor(Math.random() * n)];
      },
    };
  },
};
