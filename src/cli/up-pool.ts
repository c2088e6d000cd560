/**
 * The proxy pool of `keepcache up`: ONE shard that is a replica set over the two
 * member processes, so the failover is the set's own:
 *   - keepcache nodes (memcached protocol): `replicated: true`, `write: one`, `read: primary`.
 *     The nodes replicate between themselves, so writes go to the current primary only and
 *     reads fail over to the other member on an error or timeout; the set's monitor takes a
 *     dead node out (the data path and a `version` probe every check_interval), moves the
 *     primary, and lets a returning node serve reads only once its replication reports in
 *     sync (failover/memcache-warm.ts waitNodeInSync).
 *   - `--redis`: `failover: builtin` over a master and its replica: the proxy detects the
 *     master's death, confirms it with the replica, promotes it, and repoints the old master
 *     when it returns (failover/builtin.ts).
 * The set's name ("cache") is what the pool hashes, as with any replica set.
 */
import type { Config } from "../config/index.js";
import { parseConfig } from "../config/load.js";
import type { ProxyService } from "../proxy/proxy.js";
import type { ReplicaSet } from "../proxy/replicaset/set.js";

export const SHARD = "cache";

export interface UpPoolOptions {
  pool: string;
  listenPort: number;
  redis: boolean;
  /** The member processes' ports, the first one the initial primary / master. */
  memberPorts: number[];
}

export function upPoolConfig(o: UpPoolOptions): Config {
  const members = o.memberPorts.map((p, i) =>
    o.redis
      ? `        - { address: "127.0.0.1:${p}", role: ${i === 0 ? "master" : "replica"} }`
      : `        - { address: "127.0.0.1:${p}" }`,
  );
  const set = o.redis
    ? ["      failover: builtin", "      read: master"]
    : ["      write: one", "      replicated: true", "      read: primary"];
  const yaml = [
    `${o.pool}:`,
    `  listen: 127.0.0.1:${o.listenPort}`,
    "  hash: fnv1a_64",
    "  distribution: ketama",
    `  redis: ${o.redis}`,
    "  timeout: 1000",
    "  servers:",
    `    - name: ${SHARD}`,
    ...set,
    "      check_interval: 100",
    "      members:",
    ...members,
  ].join("\n");
  return parseConfig(yaml, "keepcache up");
}

/** The pool's replica set (looked up each time: the pool owns it). */
export function upSet(proxy: ProxyService, pool: string): ReplicaSet | undefined {
  const s = proxy.pools_.get(pool)?.servers[0];
  return s?.kind === "set" ? s : undefined;
}
