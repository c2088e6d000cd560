/**
 * A proxy pool as a worker process runs it: the data plane only. It serves the primary's
 * listening socket, routes by the tables the primary sends (the picker is rebuilt here from
 * the table's plain data), and reports passive failures instead of counting them: ejection,
 * health checks and replica-set failover are the primary's (twemproxy's server_failure_limit
 * must count every process's failures in one place, or N processes would need N times as
 * many failures to eject, and could disagree on where a key goes).
 */
import type { PoolConfig } from "../../config/index.js";
import { type PoolControlPlane, type PoolDeps, ProxyPool } from "../pool.js";
import type { SetController } from "../replicaset/control.js";
import { buildTable, type RoutingTable } from "../router.js";
import type { BackendServer } from "../server.js";
import { queueGauges } from "../stats.js";
import type { PoolTarget } from "../target.js";
import { ClusterFollower } from "./cluster-follower.js";
import { DecidedByPrimary } from "./decided.js";
import type { HeldListener } from "./handoff.js";
import {
  type FromWorker,
  histogramWire,
  type PoolReport,
  type ServerReport,
  type WireTable,
} from "./ipc.js";

export type Send = (m: FromWorker) => void;

const NEVER = { live: 0, pick: () => -1 };

/**
 * A worker's control plane: it decides nothing. Tables are the primary's (their plain data
 * rebuilt into a picker here), failures are reported to the primary, which counts them like
 * its own (nc_server.c), and the operator's actions are the primary's.
 */
class FollowerControl extends DecidedByPrimary implements PoolControlPlane {
  /** The primary's current table for this pool (undefined until the first arrives). */
  wire: WireTable | undefined;
  private version = 0;

  constructor(
    private readonly pool: ProxyPool,
    private readonly owner: WorkerProxyPool,
  ) {
    super();
  }

  /** The primary's table; without one yet, every server is live (the start state). */
  build(): RoutingTable<PoolTarget> {
    const cfg = this.pool.config;
    const w = this.wire;
    if (w === undefined || !matches(cfg, w)) {
      const all = cfg.servers.map((s) => ({
        key: s.key,
        weight: Math.max(1, s.weight),
        live: true,
      }));
      return buildTable(cfg, all, ++this.version, this.pool.servers);
    }
    const t = buildTable(cfg, w.servers, w.version, this.pool.servers);
    return w.blocked ? { ...t, picker: NEVER } : t;
  }

  serverFailed(s: BackendServer, reason: string): void {
    const o = this.owner;
    o.send?.({ t: "failed", pool: o.name, gen: o.gen, server: s.name, reason });
  }

  configured(): void {}
  close(): void {}
}

/** A pool as a worker process runs it: a ProxyPool with a follower's control plane. */
export class WorkerProxyPool {
  readonly pool: ProxyPool;
  /** Made by the pool's constructor (the control factory below), before it adopts the config. */
  private follower!: FollowerControl | ClusterFollower;
  /** Set by the worker right after construction; nothing fails before it listens. */
  send: Send | undefined;

  constructor(
    config: PoolConfig,
    deps: Omit<PoolDeps, "setControllers" | "control">,
    readonly gen: number,
    /** The primary's table when the pool is made (a cluster pool's servers come from it). */
    first?: WireTable,
  ) {
    this.pool = new ProxyPool(config, {
      ...deps,
      // A worker's replica sets follow the primary's views and decide nothing: their
      // controller forwards the data plane's signals to the primary's.
      setControllers: (set) => new RemoteController(this, set.name),
      // A Redis Cluster pool runs the masters of the primary's slot map (cluster-follower.ts).
      control: (pool) => {
        this.follower = config.redis_cluster
          ? new ClusterFollower(pool, this, first?.cluster)
          : new FollowerControl(pool, this);
        return this.follower;
      },
    });
  }

  get name(): string {
    return this.pool.name;
  }

  get table(): RoutingTable<PoolTarget> {
    return this.pool.table;
  }

  get servers(): readonly PoolTarget[] {
    return this.pool.servers;
  }

  /** Reported, never counted here: the primary counts it like its own (nc_server.c). */
  serverFailed(s: BackendServer, reason: string): void {
    this.follower.serverFailed(s, reason);
  }

  /** Adopts a config from the primary together with the table the primary built for it. */
  reconfigure(config: PoolConfig, table: WireTable): void {
    const f = this.follower;
    if (f instanceof ClusterFollower) {
      f.take(table.cluster, config);
      return;
    }
    f.wire = table;
    this.pool.apply(config);
    this.setTable(table);
  }

  /** Swaps in the primary's table; replica sets take their views from it first. */
  setTable(table: WireTable): void {
    const pool = this.pool;
    const f = this.follower;
    if (f instanceof ClusterFollower) {
      f.take(table.cluster);
      return;
    }
    // A table built for another server list (a reload in flight) waits for its "config".
    if (!matches(pool.config, table)) return;
    f.wire = table;
    table.servers.forEach((t, i) => {
      const s = pool.servers[i];
      if (t.set !== undefined && s.kind === "set") s.setView(t.set);
    });
    pool.rebuild();
  }

  /**
   * Serves the primary's listening socket (received over IPC and claimed at once, handoff.ts):
   * the connections accepted while this pool was being built first.
   */
  adopt(held: HeldListener): void {
    const pool = this.pool;
    pool.listener = held.server;
    held.release((sock) => pool.accept(sock));
    if (pool.config.preconnect) for (const x of pool.servers) x.preconnect();
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** Absolute counters of this pool, its servers and replica-set members. */
  report(): PoolReport {
    const servers: Record<string, ServerReport> = {};
    const one = (s: BackendServer) => {
      servers[s.name] = {
        label: s.label,
        c: { ...(s.counters as unknown as Record<string, number>) },
        q: queueGauges(s),
        lat: histogramWire(s.latency),
      };
    };
    for (const s of this.pool.servers) for (const b of s.backends) one(b);
    return {
      gen: this.gen,
      c: { ...(this.pool.counters as unknown as Record<string, number>) },
      servers,
    };
  }
}

function matches(cfg: PoolConfig, t: WireTable): boolean {
  return (
    t.servers.length === cfg.servers.length &&
    t.servers.every((s, i) => s.key === cfg.servers[i].key)
  );
}

/** A worker's set controller: the data plane's signals go to the primary's controller. */
class RemoteController implements SetController {
  readonly failovers = 0;
  constructor(
    private readonly owner: WorkerProxyPool,
    private readonly set: string,
  ) {}
  start(): void {}
  stop(): void {}
  memberFailed(member: number, reason: string): void {
    this.signal("failed", member, reason);
  }
  rediscover(reason: string): void {
    this.signal("rediscover", -1, reason);
  }
  failover(): Promise<string> {
    return Promise.resolve("failover is decided by the primary process");
  }
  private signal(what: "failed" | "rediscover", member: number, reason: string): void {
    const p = this.owner;
    p.send?.({ t: "member", pool: p.name, gen: p.gen, set: this.set, what, member, reason });
  }
}
