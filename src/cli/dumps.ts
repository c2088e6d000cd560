/**
 * The proxy's and TCP balancer's sections of the SIGUSR1 state dump (signals.ts; a node's and
 * VRRP's are in node.ts and vrrp.ts, which do not load the proxy). Each reports what
 * the part already knows (no I/O), in the shapes the admin status uses where one exists, so
 * the dump and the dashboard describe a server the same way.
 */

import { tcpStatus } from "../admin/sources/tcp.js";
import type { Config } from "../config/index.js";
import { poolSnapshot } from "../failover/admin.js";
import type { ProxyService } from "../proxy/proxy.js";
import type { TcpBalancer } from "../tcp/index.js";

/** Every proxy pool: its servers, replica sets with member roles and health, failovers. */
export function poolsDump(proxy: ProxyService): unknown {
  return [...proxy.pools()].map((p) => poolSnapshot(p));
}

/** Every `tcp:` service with its servers' health, weight and open connections. */
export function tcpDump(
  balancer: TcpBalancer | undefined,
  cfg: Config,
  listen: (name: string) => string,
): unknown {
  if (balancer === undefined) return [];
  return cfg.tcp.map((s) => tcpStatus(balancer, s, listen(s.name)));
}

/** The worker processes serving the pools and the `tcp:` services (`workers: N`). */
export function workersDump(proxy: ProxyService, balancer: TcpBalancer | undefined): unknown {
  return { proxy: proxy.workers?.pids() ?? [], tcp: balancer?.workerPids() ?? [] };
}
