/**
 * A cluster pool's routing table (router.ts RoutingTable): key → hash slot → index of the
 * slot's master among the pool's servers, one Int32Array lookup after the CRC16. `group` is
 * the slot itself: the Redis driver splits MGET/MSET/DEL... and checks MULTI/EVAL keys by it,
 * as a cluster node answers -CROSSSLOT to keys of several slots even when one node has them
 * all (cluster-spec.md "Keys distribution model").
 */
import type { Picker } from "../distribution/types.js";
import type { RoutingTable } from "../router.js";
import type { BackendServer } from "../server.js";
import { keySlot, SLOTS } from "./slot.js";
import type { SlotMap } from "./slot-map.js";

export interface ClusterTable extends RoutingTable {
  /**
   * Slot → server index, -1 while unknown. Written in place by a -MOVED (one entry, the value
   * the next refresh would build): the pool lives in one process, and a request reads it once.
   */
  readonly owner: Int32Array;
}

const slotGroup: Picker = { live: SLOTS, pick: (b, s, e) => keySlot(b, s, e) };

export function clusterTable(
  map: SlotMap | undefined,
  servers: readonly BackendServer[],
  version: number,
): ClusterTable {
  const owner = new Int32Array(SLOTS).fill(-1);
  const index = new Map(servers.map((s, i) => [s.label, i]));
  if (map !== undefined) {
    const byShard = new Map(
      map.shards.map((sh) => [sh, index.get(`${sh.master.host}:${sh.master.port}`) ?? -1]),
    );
    for (let slot = 0; slot < SLOTS; slot++) {
      const sh = map.shardOf(slot);
      if (sh !== undefined) owner[slot] = byShard.get(sh) ?? -1;
    }
  }
  const picker: Picker = {
    live: servers.length,
    pick: (b, s, e) => owner[keySlot(b, s, e)],
  };
  return {
    version,
    servers: servers.map((s) => ({ key: s.label, weight: 1, live: true })),
    picker,
    group: slotGroup,
    owner,
  };
}
