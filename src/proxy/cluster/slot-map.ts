/**
 * An immutable Redis Cluster slot map: slot → the shard (master and replicas) serving it, in
 * O(1) (one Uint16Array lookup). Built from the decoded reply (protocol/resp/value.ts) of
 *   CLUSTER SHARDS (Redis >= 7, commands/cluster-shards.md): per shard "slots" as flat
 *     [start, end, start, end ...] and "nodes", each a field list with id, ip, endpoint,
 *     hostname, port, tls-port, role, replication-offset, health;
 *   CLUSTER SLOTS (all versions, commands/cluster-slots.md): per range
 *     [start, end, [endpoint, port, id, {metadata}], replica...].
 * An endpoint "?" or "" (cluster-preferred-endpoint-type unknown-endpoint) means "the node
 * you asked", so the builder takes that node's host. Malformed input throws (assert) rather
 * than yielding a map that routes wrongly. A refresh builds a new map and swaps it.
 */
import assert from "node:assert";
import type { RespValue as Decoded } from "../../protocol/resp/value.js";
import { SLOTS } from "./slot.js";

export interface ClusterNode {
  readonly host: string;
  readonly port: number;
  /** The node id ("" when the reply has none). */
  readonly id: string;
  /** CLUSTER SHARDS health ("online" | "failed" | "loading"); "online" from CLUSTER SLOTS. */
  readonly health: string;
}

export interface Shard {
  readonly master: ClusterNode;
  readonly replicas: readonly ClusterNode[];
}

const UNASSIGNED = 0xffff;

export class SlotMap {
  private constructor(
    readonly shards: readonly Shard[],
    private readonly table: Uint16Array,
  ) {}

  /** The shard serving `slot`, or undefined while no master serves it. */
  shardOf(slot: number): Shard | undefined {
    const i = this.table[slot];
    return i === UNASSIGNED ? undefined : this.shards[i];
  }

  masterOf(slot: number): ClusterNode | undefined {
    return this.shardOf(slot)?.master;
  }

  /** Slots served, per shard index (for the dashboard and tests). */
  slotCounts(): number[] {
    const n = this.shards.map(() => 0);
    for (const i of this.table) if (i !== UNASSIGNED) n[i]++;
    return n;
  }

  /** The slot ranges shard `i` serves, as [first, last] pairs in slot order. */
  rangesOf(i: number): [number, number][] {
    const out: [number, number][] = [];
    const t = this.table;
    for (let slot = 0; slot < SLOTS; slot++) {
      if (t[slot] !== i) continue;
      const first = slot;
      while (slot + 1 < SLOTS && t[slot + 1] === i) slot++;
      out.push([first, slot]);
    }
    return out;
  }

  /** Slots no master serves (cluster_state:fail unless cluster-require-full-coverage no). */
  uncovered(): number {
    let n = 0;
    for (const i of this.table) if (i === UNASSIGNED) n++;
    return n;
  }

  static build(ranges: readonly { start: number; end: number; shard: Shard }[]): SlotMap {
    const shards: Shard[] = [];
    const index = new Map<Shard, number>();
    const table = new Uint16Array(SLOTS).fill(UNASSIGNED);
    for (const r of ranges) {
      assert(
        Number.isInteger(r.start) &&
          Number.isInteger(r.end) &&
          r.start >= 0 &&
          r.start <= r.end &&
          r.end < SLOTS,
        `bad slot range ${r.start}-${r.end}`,
      );
      let i = index.get(r.shard);
      if (i === undefined) {
        i = shards.length;
        shards.push(
          Object.freeze({ master: r.shard.master, replicas: Object.freeze([...r.shard.replicas]) }),
        );
        index.set(r.shard, i);
      }
      table.fill(i, r.start, r.end + 1);
    }
    return new SlotMap(Object.freeze(shards), table);
  }

  /** From CLUSTER SHARDS; `askedHost` is the host of the node that answered. */
  static fromShards(reply: Decoded, askedHost: string): SlotMap {
    assert(Array.isArray(reply), "CLUSTER SHARDS: expected an array");
    const ranges: { start: number; end: number; shard: Shard }[] = [];
    for (const s of reply) {
      const f = fields(s, "CLUSTER SHARDS shard");
      const slots = f.get("slots");
      const nodes = f.get("nodes");
      assert(
        Array.isArray(slots) && Array.isArray(nodes),
        "CLUSTER SHARDS: shard without slots/nodes",
      );
      let master: ClusterNode | undefined;
      const replicas: ClusterNode[] = [];
      for (const n of nodes) {
        const nf = fields(n, "CLUSTER SHARDS node");
        const node = nodeOf(nf, askedHost);
        // After a failover the dead old master is still listed as a master of the shard
        // (role "master", health "failed") until it rejoins as a replica: the online one serves.
        if (nf.get("role") === "master" && (master === undefined || master.health !== "online")) {
          if (master !== undefined) replicas.push(master);
          master = node;
        } else replicas.push(node);
      }
      // A shard without a master (its failover in progress) serves no slot for now.
      if (master === undefined || slots.length === 0) continue;
      const shard: Shard = { master, replicas };
      for (let i = 0; i + 1 < slots.length; i += 2)
        ranges.push({ start: Number(slots[i]), end: Number(slots[i + 1]), shard });
    }
    return SlotMap.build(ranges);
  }

  /** From CLUSTER SLOTS; `askedHost` is the host of the node that answered. */
  static fromSlots(reply: Decoded, askedHost: string): SlotMap {
    assert(Array.isArray(reply), "CLUSTER SLOTS: expected an array");
    // Ranges of one master share one Shard, so a master appears once in `shards`.
    const byMaster = new Map<string, Shard>();
    const ranges: { start: number; end: number; shard: Shard }[] = [];
    for (const r of reply) {
      assert(Array.isArray(r) && r.length >= 3, "CLUSTER SLOTS: bad range entry");
      const [start, end, ...nodes] = r;
      const list = nodes.map((n) => slotsNode(n, askedHost));
      const key = `${list[0].host}:${list[0].port}`;
      let shard = byMaster.get(key);
      if (shard === undefined) {
        shard = { master: list[0], replicas: list.slice(1) };
        byMaster.set(key, shard);
      }
      ranges.push({ start: Number(start), end: Number(end), shard });
    }
    return SlotMap.build(ranges);
  }
}

function fields(v: Decoded, what: string): Map<string, Decoded> {
  assert(Array.isArray(v) && v.length % 2 === 0, `${what}: expected a field list`);
  const m = new Map<string, Decoded>();
  for (let i = 0; i < v.length; i += 2) m.set(String(v[i]), v[i + 1]);
  return m;
}

function hostOf(endpoint: Decoded, ip: Decoded, askedHost: string): string {
  for (const h of [endpoint, ip]) if (typeof h === "string" && h !== "" && h !== "?") return h;
  return askedHost;
}

function nodeOf(f: Map<string, Decoded>, askedHost: string): ClusterNode {
  const port = Number(f.get("port") ?? f.get("tls-port"));
  assert(Number.isInteger(port) && port > 0 && port < 65536, "CLUSTER SHARDS: node without a port");
  return Object.freeze({
    host: hostOf(f.get("endpoint") ?? null, f.get("ip") ?? null, askedHost),
    port,
    id: String(f.get("id") ?? ""),
    health: String(f.get("health") ?? "online"),
  });
}

function slotsNode(n: Decoded, askedHost: string): ClusterNode {
  assert(Array.isArray(n) && n.length >= 2, "CLUSTER SLOTS: bad node entry");
  const port = Number(n[1]);
  assert(Number.isInteger(port) && port > 0 && port < 65536, "CLUSTER SLOTS: bad port");
  return Object.freeze({
    host: hostOf(n[0], null, askedHost),
    port,
    id: typeof n[2] === "string" ? n[2] : "",
    health: "online",
  });
}
