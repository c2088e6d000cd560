/**
 * The proxy's routing table, and the design of the proxy around it.
 *
 * Control plane / data plane. Everything that changes where a key goes (passive ejection after
 * `server_failure_limit` failures, reinstatement after `server_retry_timeout`, active health
 * transitions, SIGHUP reload, replica-set member changes) builds a NEW immutable
 * RoutingTable and swaps `pool.table`. The data plane reads `pool.table` once per request and
 * never sees a half-updated state. A table is plain data plus a picker rebuilt from it
 * (servers, weights, live flags), so it can be serialized to other worker processes.
 *
 * Data path (twemproxy's model: nc_request.c / nc_response.c, one event loop):
 *   client socket → driver ClientParser → Plan → pool.route() → BackendServer.send()
 *   → one BackendConn (chosen by client id, so one client's requests to a server stay ordered)
 *   → its OutBuffer, flushed once per event-loop turn (flush.ts) → backend socket.
 *   Replies: backend socket → driver ReplyFramer → oldest in-flight request of that
 *   connection (bounded FIFO) → the client's reply slot. Slots complete in any order; the
 *   client writes them in request order, copying the head slot's bytes straight into its
 *   OutBuffer and keeping a copy only for slots that finish early.
 *
 * Failures: a connection error, EOF, protocol break or per-request timeout fails every request
 * in flight on that connection (their replies could no longer be matched), counts one failure
 * for the server (twemproxy server_failure), and with auto_eject_hosts ejects it at the limit.
 * Idempotent requests are then retried once on the server that owns the key in the new table;
 * everything else gets the driver's error naming the backend and the reason.
 *
 * The router never branches on protocol: drivers (driver.ts) own parsing and reply shapes.
 */
import type { PoolConfig, ServerConfig } from "../config/index.js";
import { formatEndpoint } from "../config/schema/common.js";
import { buildRouter, type Picker } from "./distribution/index.js";
import type { SetView } from "./replicaset/view.js";

/** One backend as the table sees it. */
export interface TableServer {
  /** What the distribution hashes (ServerConfig.key). */
  key: string;
  weight: number;
  /** false: ejected (passively or by the health checker). */
  live: boolean;
  /** A replica set's current master/primary and member states (replicaset/view.ts). */
  set?: SetView;
}

export interface RoutingTable {
  /** Increases with every swap (logs, tests). */
  readonly version: number;
  readonly servers: readonly TableServer[];
  /** Key → index into `servers`, -1 when none is live. */
  readonly picker: Picker;
  /**
   * Seam for pools whose keys must share more than a server to go in one request (Redis
   * Cluster: one hash slot, cluster/table.ts): key → group, read by the drivers' split and
   * same-shard checks (ClientState.shardOf). Undefined: the group is the server.
   */
  readonly group?: Picker;
}

export function buildTable(
  pool: Pick<PoolConfig, "hash" | "distribution" | "hash_tag">,
  servers: readonly TableServer[],
  version: number,
): RoutingTable {
  const picker = buildRouter({
    servers: servers.map((s) => ({ name: s.key, weight: s.weight, live: s.live })),
    hash: pool.hash,
    distribution: pool.distribution,
    hashTag: pool.hash_tag,
  });
  return { version, servers: servers.map((s) => ({ ...s })), picker };
}

/** twemproxy's stats name for a server (nc_conf.c conf_add_server): its name, else host:port. */
export function statsName(s: ServerConfig): string {
  if (s.name !== undefined) return s.name;
  return formatEndpoint(s.address);
}
