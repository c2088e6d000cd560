/**
 * A cluster pool's routing table (router.ts RoutingTable): key → hash slot → index of the
 * slot's master among the pool's servers, one Int32Array lookup after the CRC16. `group` is
 * the slot itself: the Redis driver splits MGET/MSET/DEL... and checks MULTI/EVAL keys by it,
 * as a cluster node answers -CROSSSLOT to keys of several slots even when one node has them
 * all (cluster-spec.md "Keys distribution model").
 *
 * Worker processes get the table as plain data (ownerRanges: runs of slots with one owner, a
 * few hundred numbers instead of 16384) with every swap, and rebuild it with fromRanges.
 */
import type { Picker } from "../distribution/types.js";
import type { RoutingTable } from "../router.js";
import type { PoolTarget } from "../target.js";
import type { NodeAddress } from "./servers.js";
import { keySlot, SLOTS } from "./slot.js";
import type { SlotMap } from "./slot-map.js";

export interface ClusterTable extends RoutingTable<PoolTarget> {
  /**
   * Slot → server index, -1 while unknown. Written in place by a -MOVED (one entry, the value
   * the next refresh would build): a request reads it once, and each process has its own.
   */
  readonly owner: Int32Array;
}

const slotGroup: Picker = { live: SLOTS, pick: (b, s, e) => keySlot(b, s, e) };

export function clusterTable(
  map: SlotMap | undefined,
  servers: readonly PoolTarget[],
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
  return tableOf(owner, servers, version);
}

function tableOf(owner: Int32Array, servers: readonly PoolTarget[], version: number): ClusterTable {
  const picker: Picker = {
    live: servers.length,
    pick: (b, s, e) => owner[keySlot(b, s, e)],
  };
  return {
    version,
    servers: servers.map((s) => ({ key: s.label, weight: 1, live: true })),
    targets: servers,
    picker,
    group: slotGroup,
    owner,
  };
}

/** The owner array as [first, last, index, ...] runs (the wire form for worker processes). */
export function ownerRanges(owner: Int32Array): number[] {
  const out: number[] = [];
  let first = 0;
  for (let slot = 1; slot <= SLOTS; slot++)
    if (slot === SLOTS || owner[slot] !== owner[first]) {
      out.push(first, slot - 1, owner[first]);
      first = slot;
    }
  return out;
}

/** A table from ownerRanges' runs; an index out of `servers` reads as unknown (-1). */
export function fromRanges(
  ranges: readonly number[],
  servers: readonly PoolTarget[],
  version: number,
): ClusterTable {
  const owner = new Int32Array(SLOTS).fill(-1);
  for (let i = 0; i + 2 < ranges.length; i += 3) {
    const idx = ranges[i + 2];
    if (idx < 0 || idx >= servers.length) continue;
    owner.fill(idx, Math.max(0, ranges[i]), Math.min(SLOTS, ranges[i + 1] + 1));
  }
  return tableOf(owner, servers, version);
}

/** A cluster pool's table as plain data, sent to worker processes with every swap. */
export interface ClusterWire {
  /** The pool's servers, in order: the map's masters. */
  masters: NodeAddress[];
  /** Each master's replicas that are not failed (for `read: replica | prefer-replica`). */
  replicas: NodeAddress[][];
  /** ownerRanges of the table. */
  owner: number[];
}
