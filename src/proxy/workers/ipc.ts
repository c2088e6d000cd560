/**
 * Messages between the primary (control plane: config, prober, ejection, replica-set failover,
 * reload) and the proxy worker processes (data plane). Everything crosses as JSON over the fork
 * IPC channel; the only handle sent is a pool's listening socket, with the "pool" message.
 *
 * A RoutingTable is plain data plus a picker (router.ts), so only the data crosses (WireTable)
 * and the worker rebuilds the picker from it with its copy of the pool config. `gen` names one
 * incarnation of a pool in the workers: a pool stopped and started again by a reload gets a new
 * gen, so a late message about the old one is never applied to the new one.
 */
import type { PoolConfig } from "../../config/index.js";
import type { ClusterWire } from "../cluster/table.js";
import type { RoutingTable, TableServer } from "../router.js";

export interface WireTable {
  version: number;
  servers: TableServer[];
  /**
   * The primary routes nothing even though buildTable's picker would (a pool of one taken out
   * by the operator: pool.ts rebuild replaces the picker).
   */
  blocked: boolean;
  /** A Redis Cluster pool's table: its masters, their replicas and the slot owners. */
  cluster?: ClusterWire;
}

const EMPTY = Buffer.alloc(0);

export function toWire(t: RoutingTable): WireTable {
  // A pool of one always picks 0 (server_pool_idx) unless its picker was replaced by a blocked one.
  const blocked = t.servers.length === 1 && t.picker.pick(EMPTY, 0, 0) < 0;
  return { version: t.version, servers: t.servers.map((s) => ({ ...s })), blocked };
}

/** Latency histogram counts as reported (non-cumulative per bucket, as Histogram.counts). */
export interface WireHistogram {
  counts: number[];
  sum: number;
  count: number;
}

export interface ServerReport {
  /** BackendServer.label: a reload that rebuilt the server under the same name resets it. */
  label: string;
  c: Record<string, number>;
  /** Queue gauges read from the worker's connections (stats.ts queueGauges). */
  q: { in_queue: number; in_queue_bytes: number; out_queue: number };
  lat: WireHistogram;
}

export interface PoolReport {
  gen: number;
  c: Record<string, number>;
  /** By stats name (BackendServer.name; replica set members as "set/host:port"). */
  servers: Record<string, ServerReport>;
}

export interface WorkerReport {
  global: { total_connections: number; curr_connections: number };
  pools: Record<string, PoolReport>;
}

export type ToWorker =
  /** Serve this pool on the listening socket sent along (replaces an older gen). */
  | { t: "pool"; gen: number; cfg: PoolConfig; table: WireTable }
  /** A reload kept the pool's listener: new config, and the table built for it. */
  | { t: "config"; name: string; gen: number; cfg: PoolConfig; table: WireTable }
  /** The control plane swapped the pool's table (ejection, health, failover, operator). */
  | { t: "table"; name: string; gen: number; table: WireTable }
  /** Stop accepting and close the pool's connections. */
  | { t: "remove"; name: string; gen: number }
  /** Send counters now (the stats port wants fresh totals). */
  | { t: "report"; seq: number }
  | { t: "stop" };

export type FromWorker =
  | { t: "ready" }
  | { t: "serving"; name: string; gen: number }
  /** The worker closed its copy of the pool's listening socket ("remove" done). */
  | { t: "removed"; name: string; gen: number }
  /** A passive failure of a server or replica-set member (nc_server.c server_failure). */
  | { t: "failed"; pool: string; gen: number; server: string; reason: string }
  /**
   * A Redis Cluster pool's slot map may have changed (a -MOVED, a node failing): at most one
   * per pool and MIN_REFRESH_ASK_MS from each worker (cluster-follower.ts); the primary
   * coalesces them with its own (cluster/control.ts refreshSoon).
   */
  | { t: "refresh"; pool: string; gen: number }
  /** A replica-set signal for the set's controller (memberFailed / rediscover). */
  | {
      t: "member";
      pool: string;
      gen: number;
      set: string;
      what: "failed" | "rediscover";
      member: number;
      reason: string;
    }
  /** Counters (periodically, and in answer to "report" with its seq; 0 = periodic). */
  | { t: "counters"; seq: number; report: WorkerReport };

export function histogramWire(h: { counts: Float64Array; sum: number; count: number }) {
  return { counts: Array.from(h.counts), sum: h.sum, count: h.count } satisfies WireHistogram;
}
