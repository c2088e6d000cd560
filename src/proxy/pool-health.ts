/**
 * Active health checks for a pool's servers through the shared prober (src/health): the
 * protocol's own liveness probe (memcached `version`, Redis `PING`; a TCP connect for TLS
 * backends, which the checks cannot speak), with the pool's `health:` timings or keepcache's
 * cache defaults. Transitions are handed to the pool, which swaps its routing table.
 */
import type { PoolConfig } from "../config/index.js";
import type { Prober } from "../health/prober.js";
import type { HealthCheckConfig } from "../health/types.js";
import type { BackendServer } from "./server.js";
import type { PoolTarget } from "./target.js";

/** What health checks need of a pool (pool.ts ProxyPool). */
export interface WatchedPool {
  readonly name: string;
  readonly config: PoolConfig;
  readonly driver: { readonly name: string };
  /** The pool's entries; its replica sets' members are watched by their controllers. */
  readonly servers: readonly PoolTarget[];
}

export interface HealthWatch {
  stop(): void;
}

/** Defaults of the `health:` section (config/schema/health.ts poolHealthSchema). */
const DEFAULTS = { interval: 1000, timeout: 500, rise: 2, fall: 2 };

export function probeId(pool: { readonly name: string }, s: BackendServer): string {
  return `${pool.name}/${s.name}`;
}

export function watchHealth(
  pool: WatchedPool,
  prober: Prober,
  onChange: (s: BackendServer, down: boolean, reason: string) => void,
): HealthWatch {
  const cfg = pool.config;
  const h = cfg.health ?? DEFAULTS;
  const type: HealthCheckConfig["type"] =
    cfg.server_tls !== undefined ? "tcp" : pool.driver.name === "redis" ? "redis" : "memcache";
  const byId = new Map<string, BackendServer>();
  for (const s of pool.servers) {
    // A replica set's members are watched by the set's own controller (replicaset/control.ts).
    if (s.kind !== "server" || s.endpoint.kind !== "tcp") continue;
    const id = probeId(pool, s);
    byId.set(id, s);
    prober.add({
      id,
      target: { host: s.endpoint.host, port: s.endpoint.port, name: s.label },
      check: {
        type,
        interval: h.interval,
        timeout: h.timeout,
        rise: h.rise,
        fall: h.fall,
        ...(cfg.redis_auth !== undefined ? { password: cfg.redis_auth } : {}),
      },
    });
  }
  const unsubscribe = prober.subscribe((e) => {
    if (e.type !== "transition") return;
    const s = byId.get(e.target);
    if (s) onChange(s, e.to === "down", e.reason);
  });
  return {
    stop() {
      unsubscribe();
      for (const id of byId.keys()) prober.remove(id);
    },
  };
}
