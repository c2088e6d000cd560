/**
 * A Redis Cluster pool's slot map as the dashboard and the admin status JSON show it: every
 * node with its role and health, slot ranges per master, slots being moved, and how the map was
 * followed (refreshes, redirects). Pure: control.ts gathers the inputs.
 */
import type { ProxyPoolCounters } from "../../metrics/table.js";
import type { Migration } from "./migrations.js";
import { labelOf } from "./servers.js";
import type { SlotMap } from "./slot-map.js";

/** One node of the map, for the dashboard and the status JSON. */
export interface ClusterNodeStatus {
  address: string;
  role: "master" | "replica";
  /** Down: the map reports it failed, or (a master) the pool's health check does. */
  health: "up" | "down";
  /** Why it is down, or the map's word for a state other than "online" ("loading"). */
  detail?: string;
  /** A replica's master. */
  master?: string;
}

/** The slot map as the pool follows it, for the dashboard and the status JSON. */
export interface ClusterStatus {
  known: boolean;
  /** When the map was last fetched (ms since the epoch; 0: never). */
  refreshedAt: number;
  /** Maps fetched, and refreshes no node answered. */
  refreshes: number;
  refreshErrors: number;
  /** Redirects followed, over every process. */
  moved: number;
  ask: number;
  uncoveredSlots: number;
  nodes: ClusterNodeStatus[];
  shards: {
    master: string;
    slots: number;
    /** [first, last] slot ranges, in slot order. */
    ranges: [number, number][];
    replicas: string[];
    health: string;
  }[];
  /** Slots being moved, as the masters reported them at migrationsAt (CLUSTER NODES). */
  migrations: Migration[];
  migrationsAt: number;
}

export interface ClusterStatusInput {
  map: SlotMap | undefined;
  counters: ProxyPoolCounters;
  refreshedAt: number;
  migrations: Migration[];
  migrationsAt: number;
  /** The pool's own health check reports this master (by label) down. */
  checkDown(label: string): boolean;
}

export function clusterStatus(i: ClusterStatusInput): ClusterStatus {
  const map = i.map;
  const counts = map?.slotCounts() ?? [];
  const c = i.counters;
  const nodes: ClusterNodeStatus[] = [];
  for (const s of map?.shards ?? []) {
    const master = labelOf(s.master.host, s.master.port);
    nodes.push(nodeStatus(master, "master", s.master.health, i.checkDown(master)));
    for (const r of s.replicas)
      nodes.push({ ...nodeStatus(labelOf(r.host, r.port), "replica", r.health, false), master });
  }
  return {
    known: map !== undefined,
    refreshedAt: i.refreshedAt,
    refreshes: c.cluster_map_refreshes,
    refreshErrors: c.cluster_map_errors,
    moved: c.cluster_moved,
    ask: c.cluster_ask,
    uncoveredSlots: map?.uncovered() ?? 16384,
    nodes,
    shards: (map?.shards ?? []).map((s, idx) => ({
      master: labelOf(s.master.host, s.master.port),
      slots: counts[idx],
      ranges: map?.rangesOf(idx) ?? [],
      replicas: s.replicas.map((r) => labelOf(r.host, r.port)),
      health: s.master.health,
    })),
    migrations: i.migrations,
    migrationsAt: i.migrationsAt,
  };
}

function nodeStatus(
  address: string,
  role: "master" | "replica",
  health: string,
  checkDown: boolean,
): ClusterNodeStatus {
  const failed = health.startsWith("fail");
  const st: ClusterNodeStatus = { address, role, health: failed || checkDown ? "down" : "up" };
  if (failed) st.detail = `the cluster reports it ${health}`;
  else if (checkDown) st.detail = "health check failing";
  else if (health !== "online") st.detail = health;
  return st;
}
