/**
 * twemproxy's modula (src/hashkit/nc_modula.c): each live server appears `weight` times in a row,
 * in twemproxy's sorted server order (see order.ts), and a key goes to slot hash % slots.
 */
import type { HashFn } from "../hash/types.js";
import { twemproxyOrder } from "./order.js";
import type { Distribution, DistributionServer, Picker } from "./types.js";

export function modulaSlots(servers: readonly DistributionServer[]): Int32Array {
  const slots: number[] = [];
  for (const i of twemproxyOrder(servers.map((s) => s.name))) {
    const s = servers[i];
    if (s.live === false) continue;
    for (let w = 0; w < s.weight; w++) slots.push(i);
  }
  return Int32Array.from(slots);
}

export const modula: Distribution = {
  name: "modula",
  build(servers: readonly DistributionServer[], hash: HashFn): Picker {
    const slots = modulaSlots(servers);
    const n = slots.length;
    return {
      live: servers.filter((s) => s.live !== false).length,
      pick(key, start, end) {
        if (n === 0) return -1;
        return slots[hash(key, start, end) % n];
      },
    };
  },
};
