/**
 * A Redis Cluster pool's control plane in a worker process. The slot map is the primary's
 * (cluster/control.ts: topology refresh, health checks): each of its table swaps arrives as
 * plain data (ClusterWire: masters, their replicas, slot owner runs), and the pool here runs
 * those masters as its servers, in the primary's order, so a server's name and index mean the
 * same in every process.
 *
 * The data plane is the same as the primary's (cluster/replies.ts): a -MOVED is followed for
 * that request and points the slot at its new owner in this process's table at once; a -ASK is
 * followed with ASKING; reads held through a failover go to the new master when the primary's
 * next table names one. What only the primary may do, refreshing the map, is asked for: one
 * "refresh" message per pool at most every MIN_REFRESH_ASK_MS from this worker, which the
 * primary coalesces with its own refreshes (single-flight, rate-limited), so N workers seeing
 * the same -MOVED storm cost the cluster one CLUSTER SHARDS, not N times one per request.
 */
import type { Endpoint, PoolConfig } from "../../config/index.js";
import { ClusterNode } from "../cluster/node.js";
import { ClusterReplies, type ClusterRouting } from "../cluster/replies.js";
import { ClusterServers, labelOf, nodeLine, seedHost } from "../cluster/servers.js";
import { type ClusterTable, type ClusterWire, fromRanges } from "../cluster/table.js";
import type { PoolControlPlane, ProxyPool } from "../pool.js";
import type { BackendServer } from "../server.js";
import type { PoolTarget } from "../target.js";
import { DecidedByPrimary, type FollowerOwner } from "./decided.js";

/** Asks for a refresh at most this often per pool (the primary refreshes at most every 100 ms). */
const MIN_REFRESH_ASK_MS = 100;

export class ClusterFollower extends DecidedByPrimary implements PoolControlPlane, ClusterRouting {
  /** The primary's current table data (undefined until the first arrives). */
  private wire: ClusterWire | undefined;
  private user!: PoolConfig;
  private version = 0;
  current: ClusterTable | undefined = undefined;
  private readonly nodes: ClusterServers;
  readonly replies: ClusterReplies;
  private lastAsk = 0;

  constructor(
    private readonly pool: ProxyPool,
    private readonly owner: FollowerOwner,
    first: ClusterWire | undefined,
  ) {
    super();
    this.wire = first;
    this.nodes = new ClusterServers(pool);
    this.replies = new ClusterReplies(pool, this);
  }

  /** The primary's masters as servers (its seeds before it knows a map); no ejection here. */
  adopt(config: PoolConfig): PoolConfig {
    this.user = config;
    const masters = this.wire?.masters ?? [];
    const servers =
      masters.length > 0 ? masters.map((m) => nodeLine(m.host, m.port)) : config.servers;
    return { ...config, servers, auto_eject_hosts: false };
  }

  newServer(name: string, label: string, ep: Endpoint, connections: number): BackendServer {
    return new ClusterNode(this.pool, name, label, ep, connections);
  }

  configured(): void {
    this.nodes.place(this.user.read ?? "master", this.wire?.replicas ?? []);
  }

  build(): ClusterTable {
    this.current = fromRanges(this.wire?.owner ?? [], this.pool.servers, ++this.version);
    return this.current;
  }

  /**
   * The primary swapped its table (with a reload's new operator config): a new list of masters
   * or replicas rebuilds the servers (those kept keep their connections: ProxyPool.apply), else
   * only the table is swapped.
   */
  take(wire: ClusterWire | undefined, config?: PoolConfig): void {
    const pool = this.pool;
    const labels = (w: ClusterWire | undefined) =>
      w?.masters.map((m) => labelOf(m.host, m.port)).join(",");
    const moved = labels(this.wire) !== labels(wire);
    this.wire = wire;
    if (config !== undefined || moved || (wire !== undefined && !sameReplicas(pool, wire)))
      pool.apply(config ?? this.user);
    else pool.rebuild();
    this.replies.swapped();
  }

  /** Reported to the primary (its ClusterControl counts it and refreshes soon). */
  serverFailed(s: BackendServer, reason: string): void {
    const o = this.owner;
    o.send?.({ t: "failed", pool: o.name, gen: o.gen, server: s.name, reason });
    this.refreshSoon();
  }

  refreshSoon(): void {
    const now = Date.now();
    if (now - this.lastAsk < MIN_REFRESH_ASK_MS) return;
    this.lastAsk = now;
    const o = this.owner;
    o.send?.({ t: "refresh", pool: o.name, gen: o.gen });
  }

  serverAt(host: string, port: number): PoolTarget {
    return this.nodes.at(host, port);
  }

  seedHost(): string {
    return seedHost(this.user);
  }

  close(): void {
    this.replies.close();
    this.nodes.close("pool stopped");
  }
}

/** The wire's replicas are the ones each master already has (no server to add or retire). */
function sameReplicas(pool: ProxyPool, wire: ClusterWire): boolean {
  return wire.replicas.every((list, i) => {
    const node = pool.servers[i];
    if (!(node instanceof ClusterNode)) return list.length === 0;
    if (node.read === "master") return true;
    return (
      node.replicas.length === list.length &&
      node.replicas.every((r, j) => r.label === labelOf(list[j].host, list[j].port))
    );
  });
}
