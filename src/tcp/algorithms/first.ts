/**
 * first (HAProxy balance first): the first server in configuration order that has a free
 * connection slot. The service has already removed full servers, so that is candidate 0; this
 * packs connections onto few servers so the others can be powered down.
 */
import type { Algorithm } from "./types.js";

export function firstAvailable(): Algorithm {
  return {
    name: "first",
    pick(): number {
      return 0;
    },
  };
}
