/**
 * Every proxy pool of a config, started together, reloaded together. A reload keeps a pool
 * (its listener, its client connections, the connections of servers that stay) when its name
 * and listen address are unchanged and only swaps its config and routing table; pools that
 * are new are started, pools that are gone are stopped.
 *
 * With `workers: N` (N > 1) worker processes serve the pools' listeners too (workers/); the
 * control plane stays here and every table swap, config and counter crosses IPC. With 1 (the
 * default) nothing of that exists: no process, no hook on the data path.
 */
import { availableParallelism } from "node:os";
import type { Config, PoolConfig } from "../config/index.js";
import { formatEndpoint } from "../config/schema/common.js";
import { Prober } from "../health/prober.js";
import type { Logger } from "../log.js";
import { ClusterPool } from "./cluster/pool.js";
import { driverFor } from "./drivers.js";
import { ProxyPool } from "./pool.js";
import { prepareTlsRefresh } from "./pool-listener.js";
import type { StatsSource } from "./stats.js";
import type { ProxyWorkers } from "./workers/primary.js";

/**
 * TLS on or off, and whether client certificates are required (`ca`), are options of the
 * listening server; a change of certificate files only is swapped in place (reload).
 */
function tlsShape(a: PoolConfig): string {
  return a.tls === undefined ? "plain" : a.tls.ca === undefined ? "tls" : "mutual-tls";
}

function sameListener(a: PoolConfig, b: PoolConfig): boolean {
  return (
    formatEndpoint(a.listen) === formatEndpoint(b.listen) &&
    a.redis === b.redis &&
    a.redis_cluster === b.redis_cluster &&
    tlsShape(a) === tlsShape(b)
  );
}

export class ProxyService implements StatsSource {
  readonly pools_ = new Map<string, ProxyPool>();
  readonly prober: Prober;
  readonly startedAt = Date.now();
  readonly global = { total_connections: 0, curr_connections: 0 };
  /** Bound addresses by pool name (port 0 in the config resolves here). */
  readonly addresses = new Map<string, unknown>();
  /** Worker processes (`workers` > 1); undefined with one process. */
  workers: ProxyWorkers | undefined;
  private workerSetting: number | "auto" = 1;

  constructor(private readonly log: Logger) {
    this.prober = new Prober({ onError: (err) => log.warn({ err }, "health prober error") });
  }

  pools(): Iterable<ProxyPool> {
    return this.pools_.values();
  }

  async start(pools: readonly PoolConfig[], workers: number | "auto" = 1): Promise<void> {
    for (const p of pools) await this.startPool(p);
    this.prober.start();
    await this.setWorkers(workers);
  }

  /** Starts, or restarts with another count, the worker processes (none for 1). */
  private async setWorkers(setting: number | "auto"): Promise<void> {
    if (setting === this.workerSetting) return;
    this.workerSetting = setting;
    await this.workers?.stop();
    this.workers = undefined;
    const n = setting === "auto" ? availableParallelism() : setting;
    if (n <= 1) return;
    const { ProxyWorkers } = await import("./workers/primary.js");
    const w = new ProxyWorkers(n - 1, { log: this.log, global: this.global });
    this.workers = w;
    for (const pool of this.pools_.values()) w.addPool(pool);
    await w.start();
    this.log.info({ workers: w.pids() }, "proxy worker processes started");
  }

  private async startPool(cfg: PoolConfig): Promise<void> {
    const deps = {
      driver: await driverFor(cfg),
      prober: this.prober,
      log: this.log,
      global: this.global,
      onTable: (p: ProxyPool) => this.workers?.table(p),
    };
    const pool = cfg.redis_cluster ? new ClusterPool(cfg, deps) : new ProxyPool(cfg, deps);
    const addr = await pool.listen();
    this.addresses.set(cfg.name, addr);
    this.pools_.set(cfg.name, pool);
    this.workers?.addPool(pool);
    this.log.info({ pool: cfg.name, listen: addr, servers: cfg.servers.length }, "pool listening");
  }

  /** Applies a validated config: keep, update, start and stop pools. */
  async reload(config: Config): Promise<void> {
    const next = new Map(config.pools.map((p) => [p.name, p]));
    // Kept TLS listeners: certificate material re-read and checked first, so unreadable or bad
    // files fail the reload before any pool changed; swapped in with the new configs below.
    const rotations = new Map<string, () => void>();
    for (const [name, pool] of this.pools_) {
      const cfg = next.get(name);
      if (cfg?.tls !== undefined && pool.listener !== undefined && sameListener(pool.config, cfg))
        rotations.set(name, prepareTlsRefresh(pool.listener, cfg.tls));
    }
    for (const [name, pool] of [...this.pools_]) {
      const cfg = next.get(name);
      if (cfg === undefined || !sameListener(pool.config, cfg)) {
        await this.workers?.removePool(name);
        await pool.close();
        this.pools_.delete(name);
        this.log.info({ pool: name }, "pool stopped by reload");
      }
    }
    for (const cfg of config.pools) {
      const pool = this.pools_.get(cfg.name);
      if (pool) {
        rotations.get(cfg.name)?.();
        pool.apply(cfg);
        this.workers?.reconfigure(pool);
        this.log.info({ pool: cfg.name }, "pool reconfigured");
      } else await this.startPool(cfg);
    }
    // A different count needs new processes (they get every pool again when forked).
    await this.setWorkers(config.workers);
  }

  async stop(): Promise<void> {
    await this.workers?.stop();
    this.workers = undefined;
    await Promise.all([...this.pools_.values()].map((p) => p.close()));
    this.pools_.clear();
    await this.prober.stop();
  }
}

export type { Config };
