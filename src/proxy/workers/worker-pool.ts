/**
 * A proxy pool as a worker process runs it: the data plane only. It serves the primary's
 * listening socket, routes by the tables the primary sends (the picker is rebuilt here from
 * the table's plain data), and reports passive failures instead of counting them: ejection,
 * health checks and replica-set failover are the primary's (twemproxy's server_failure_limit
 * must count every process's failures in one place, or N processes would need N times as
 * many failures to eject, and could disagree on where a key goes).
 */
import type { PoolConfig } from "../../config/index.js";
import { type PoolDeps, ProxyPool } from "../pool.js";
import type { SetController } from "../replicaset/control.js";
import { buildTable } from "../router.js";
import type { BackendServer } from "../server.js";
import { queueGauges } from "../stats.js";
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

export class WorkerProxyPool extends ProxyPool {
  /** The primary's current table for this pool (undefined until the first arrives). */
  private wire: WireTable | undefined;
  /** Set by the worker right after construction; nothing fails before it listens. */
  send: Send | undefined;

  constructor(
    config: PoolConfig,
    deps: Omit<PoolDeps, "setControllers">,
    readonly gen: number,
  ) {
    // A worker's replica sets follow the primary's views and decide nothing: their controller
    // forwards the data plane's signals to the primary's (the sets are built inside super()).
    const self: { pool?: WorkerProxyPool } = {};
    super(config, { ...deps, setControllers: (set) => new RemoteController(self, set.name) });
    self.pool = this;
  }

  /** Adopts a config from the primary together with the table the primary built for it. */
  reconfigure(config: PoolConfig, table: WireTable): void {
    this.wire = table;
    this.apply(config);
    this.setTable(table);
  }

  /** Swaps in the primary's table; replica sets take their views from it first. */
  setTable(table: WireTable): void {
    // A table built for another server list (a reload in flight) waits for its "config".
    if (!matches(this.config, table)) return;
    this.wire = table;
    table.servers.forEach((t, i) => {
      const s = this.servers[i];
      if (t.set !== undefined && s.kind === "set") s.setView(t.set);
    });
    this.rebuild();
  }

  /** The table is the primary's; without one yet, every server is live (the start state). */
  override rebuild(): void {
    const w = this.wire;
    if (w === undefined || !matches(this.config, w)) {
      super.rebuild();
      return;
    }
    const t = buildTable(this.config, w.servers, w.version);
    this.table = w.blocked ? { ...t, picker: NEVER } : t;
  }

  /** Reported, never counted here: the primary counts it like its own (nc_server.c). */
  override serverFailed(s: BackendServer, reason: string): void {
    this.send?.({ t: "failed", pool: this.name, gen: this.gen, server: s.name, reason });
  }

  /**
   * Serves the primary's listening socket (received over IPC and claimed at once, handoff.ts):
   * the connections accepted while this pool was being built first.
   */
  adopt(held: HeldListener): void {
    this.listener = held.server;
    held.release((sock) => this.accept(sock));
    if (this.config.preconnect) for (const x of this.servers) x.preconnect();
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
    for (const s of this.servers) for (const b of s.backends) one(b);
    return {
      gen: this.gen,
      c: { ...(this.counters as unknown as Record<string, number>) },
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
    private readonly owner: { pool?: WorkerProxyPool },
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
    const p = this.owner.pool;
    p?.send?.({ t: "member", pool: p.name, gen: p.gen, set: this.set, what, member, reason });
  }
}
