/**
 * The parts of the proxy (src/proxy) the admin sources read and drive, named here so the
 * sources depend on a small surface of it.
 */
import type { ProxyPool } from "../../proxy/pool.js";
import type { ReplicaSet } from "../../proxy/replicaset/set.js";
import type { BackendServer } from "../../proxy/server.js";
import type { StatsWorkers } from "../../proxy/stats.js";
import type { PoolTarget } from "../../proxy/target.js";

export type { BackendServer, PoolTarget, ProxyPool, ReplicaSet };
export type ProxyPoolLike = ProxyPool;

/** ProxyService, or anything that lists pools and knows their bound addresses. */
export interface ProxyLike {
  pools(): Iterable<ProxyPool>;
  readonly addresses?: ReadonlyMap<string, unknown>;
  /** Worker processes (`workers: N`): their queue gauges are added to the servers'. */
  readonly workers?: StatsWorkers | undefined;
}
