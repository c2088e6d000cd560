/**
 * The one table of metrics. Each entry is declared once here and feeds three outputs:
 *   - Prometheus `/metrics` (name = keepcache_<subsystem>_ + `prom` or the key in snake_case,
 *     `_total` added to counters; https://prometheus.io/docs/practices/naming/),
 *   - the memcached `stats` command (entries with a `stat` name, in declaration order),
 *   - the twemproxy-compatible stats port and the admin dashboard (entries with `nc`).
 *
 * Hot paths never touch prom-client: each subsystem owns a plain counters object created by
 * `counters(table)` (`c.cmd_get++` is a property increment), and the registry reads those
 * objects at scrape time. State tables (a server's health, a set's primary) have no counters
 * object: their sources compute the values when scraped.
 */
export type MetricType = "counter" | "gauge";

export interface MetricDef {
  type: MetricType;
  help: string;
  /** Name in memcached's `stats` output, when the node reports it there. */
  stat?: string;
  /** Name in twemproxy's stats JSON, when the proxy reports it there. */
  nc?: string;
  /**
   * Prometheus name after keepcache_<subsystem>_, when the key's snake_case would break the
   * naming conventions (a unit missing, a word doubled with the subsystem or with `_total`).
   */
  prom?: string;
  /** Factor from the table's unit to the Prometheus base unit (twemproxy's µs -> seconds). */
  scale?: number;
  /** No sample while the value is 0 (a timestamp whose 0 means "never"). */
  omitZero?: boolean;
  /**
   * One more label, whose values the source reports: the source's value for this entry is
   * then a record from label value to number (`{ health_check: 1, failure_limit: 0 }`).
   */
  label?: string;
}

export type MetricTable = Record<string, MetricDef>;
export type Counters<T extends MetricTable> = { [K in keyof T]: number };

/** A zeroed counters object with one numeric field per table entry (stable shape). */
export function counters<T extends MetricTable>(table: T): Counters<T> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(table)) out[k] = 0;
  // Adding many computed keys leaves `out` in V8's dictionary mode, where every `c.x++` is a
  // hash lookup; a spread copy gets a fixed, fast layout (measured on the node's get path).
  return { ...out } as Counters<T>;
}

/** The embedded cache node (`keepcache node`); names follow memcached's `stats` (protocol.txt "General-purpose statistics"). */
export const nodeMetrics = {
  curr_connections: { type: "gauge", help: "Open client connections", stat: "curr_connections" },
  total_connections: {
    type: "counter",
    help: "Client connections accepted",
    stat: "total_connections",
    prom: "connections",
  },
  rejected_connections: {
    type: "counter",
    help: "Connections refused at the connection limit",
    stat: "rejected_connections",
  },
  cmd_get: { type: "counter", help: "Keys requested by retrieval commands", stat: "cmd_get" },
  cmd_set: { type: "counter", help: "Storage commands", stat: "cmd_set" },
  cmd_flush: { type: "counter", help: "flush_all commands", stat: "cmd_flush" },
  cmd_touch: { type: "counter", help: "touch/gat commands", stat: "cmd_touch" },
  cmd_meta: { type: "counter", help: "Meta commands", stat: "cmd_meta" },
  get_hits: { type: "counter", help: "Keys found", stat: "get_hits" },
  get_misses: { type: "counter", help: "Keys not found", stat: "get_misses" },
  get_expired: { type: "counter", help: "Keys found expired", stat: "get_expired" },
  get_flushed: { type: "counter", help: "Keys found flushed", stat: "get_flushed" },
  delete_misses: { type: "counter", help: "delete of a missing key", stat: "delete_misses" },
  delete_hits: { type: "counter", help: "delete of a present key", stat: "delete_hits" },
  incr_misses: { type: "counter", help: "incr of a missing key", stat: "incr_misses" },
  incr_hits: { type: "counter", help: "incr of a present key", stat: "incr_hits" },
  decr_misses: { type: "counter", help: "decr of a missing key", stat: "decr_misses" },
  decr_hits: { type: "counter", help: "decr of a present key", stat: "decr_hits" },
  cas_misses: { type: "counter", help: "cas of a missing key", stat: "cas_misses" },
  cas_hits: { type: "counter", help: "cas that stored", stat: "cas_hits" },
  cas_badval: { type: "counter", help: "cas with a stale value", stat: "cas_badval" },
  touch_hits: { type: "counter", help: "touch of a present key", stat: "touch_hits" },
  touch_misses: { type: "counter", help: "touch of a missing key", stat: "touch_misses" },
  store_too_large: {
    type: "counter",
    help: "Writes refused as larger than the item size limit",
    stat: "store_too_large",
  },
  store_no_memory: {
    type: "counter",
    help: "Writes refused for lack of memory",
    stat: "store_no_memory",
  },
  bytes_read: {
    type: "counter",
    help: "Bytes read from clients",
    stat: "bytes_read",
    prom: "read_bytes",
  },
  bytes_written: {
    type: "counter",
    help: "Bytes written to clients",
    stat: "bytes_written",
    prom: "written_bytes",
  },
  protocol_errors: { type: "counter", help: "Requests answered with ERROR or CLIENT_ERROR" },
  output_overflow_closes: {
    type: "counter",
    help: "Clients closed because they did not read their replies (output limit)",
  },
} satisfies MetricTable;

export type NodeCounters = Counters<typeof nodeMetrics>;

/**
 * The node's store, read from Store.stats() at report time. Keys are StoreStats field names.
 */
export const storeMetrics = {
  limitMaxbytes: {
    type: "gauge",
    help: "Item memory limit in bytes",
    stat: "limit_maxbytes",
    prom: "limit_bytes",
  },
  hashPowerLevel: { type: "gauge", help: "log2 of the hash index size", stat: "hash_power_level" },
  hashBytes: { type: "gauge", help: "Bytes of the hash index", stat: "hash_bytes" },
  hashIsExpanding: {
    type: "gauge",
    help: "1 while the hash index grows",
    stat: "hash_is_expanding",
    prom: "hash_expanding",
  },
  slabsMoved: { type: "counter", help: "Slab pages moved between classes", stat: "slabs_moved" },
  bytes: { type: "gauge", help: "Bytes used by live items", stat: "bytes", prom: "items_bytes" },
  currItems: { type: "gauge", help: "Live items", stat: "curr_items" },
  totalItems: { type: "counter", help: "Items stored", stat: "total_items", prom: "items" },
  expiredUnfetched: {
    type: "counter",
    help: "Items expired before ever being read",
    stat: "expired_unfetched",
  },
  evictedUnfetched: {
    type: "counter",
    help: "Items evicted before ever being read",
    stat: "evicted_unfetched",
  },
  evictions: { type: "counter", help: "Live items evicted to free memory", stat: "evictions" },
  reclaimed: {
    type: "counter",
    help: "Expired items whose memory was reused",
    stat: "reclaimed",
  },
  tombstones: {
    type: "gauge",
    help: "Delete markers kept for replication",
    stat: "tombstones",
  },
  totalMalloced: {
    type: "gauge",
    help: "Bytes held by slab pages",
    stat: "total_malloced",
    prom: "malloced_bytes",
  },
} satisfies MetricTable;

/**
 * The proxy, per pool; `nc` names are twemproxy's stats fields (nc_stats.h STATS_POOL_CODEC),
 * so nutcracker monitoring reads keepcache's stats port unchanged.
 */
export const proxyPoolMetrics = {
  client_eof: { type: "counter", help: "Clients that closed their connection", nc: "client_eof" },
  client_err: { type: "counter", help: "Client connections ended by an error", nc: "client_err" },
  client_connections: { type: "gauge", help: "Open client connections", nc: "client_connections" },
  server_ejects: { type: "counter", help: "Servers ejected from the pool", nc: "server_ejects" },
  forward_error: {
    type: "counter",
    help: "Requests answered with an error because no backend could serve them",
    nc: "forward_error",
  },
  fragments: {
    type: "counter",
    help: "Sub-requests made by splitting multi-key requests",
    nc: "fragments",
  },
  total_connections: { type: "counter", help: "Client connections accepted", prom: "connections" },
  rejected_connections: { type: "counter", help: "Clients refused at client_connections" },
  output_overflow_closes: {
    type: "counter",
    help: "Clients disconnected because they did not read their replies (client_output_limit)",
  },
  silent_errors_dropped: {
    type: "counter",
    help: "Backend errors to noreply/quiet requests that the client never sees",
  },
  retries: {
    type: "counter",
    help: "Requests retried on the server that owns the key after an ejection",
  },
  cluster_moved: {
    type: "counter",
    help: "Redis Cluster pools: -MOVED replies followed (request re-sent to the slot's new master)",
  },
  cluster_ask: {
    type: "counter",
    help: "Redis Cluster pools: -ASK replies followed (ASKING and the request on the importing node)",
  },
  cluster_tx_redirects: {
    type: "counter",
    help: "Redis Cluster pools: -MOVED/-ASK inside a transaction (WATCH/MULTI on a dedicated connection), answered with an error",
  },
  cluster_map_refreshes: {
    type: "counter",
    help: "Redis Cluster pools: slot maps fetched (CLUSTER SHARDS / CLUSTER SLOTS)",
  },
  cluster_map_errors: {
    type: "counter",
    help: "Redis Cluster pools: slot map refreshes that no node answered",
  },
  cluster_failover_waits: {
    type: "counter",
    help: "Redis Cluster pools: reads held while their master was unreachable, waiting for a promotion",
  },
} satisfies MetricTable;
export type ProxyPoolCounters = Counters<typeof proxyPoolMetrics>;

/** The proxy, per backend server (nc_stats.h STATS_SERVER_CODEC). */
export const proxyServerMetrics = {
  server_eof: {
    type: "counter",
    help: "Backend closed the connection",
    nc: "server_eof",
    prom: "eof",
  },
  server_err: {
    type: "counter",
    help: "Backend connection errors",
    nc: "server_err",
    prom: "errors",
  },
  server_timedout: {
    type: "counter",
    help: "Requests that timed out",
    nc: "server_timedout",
    prom: "timeouts",
  },
  server_connections: {
    type: "gauge",
    help: "Open backend connections",
    nc: "server_connections",
    prom: "connections",
  },
  // twemproxy's unit is µs since the epoch (nc_stats.c stats_server_set_ts, nc_usec_now()).
  server_ejected_at: {
    type: "gauge",
    help: "When the server was last ejected, in seconds since the epoch (no sample: never)",
    nc: "server_ejected_at",
    prom: "last_ejection_timestamp_seconds",
    scale: 1e-6,
    omitZero: true,
  },
  requests: { type: "counter", help: "Requests sent", nc: "requests" },
  request_bytes: { type: "counter", help: "Request bytes sent", nc: "request_bytes" },
  responses: { type: "counter", help: "Replies received", nc: "responses" },
  response_bytes: { type: "counter", help: "Reply bytes received", nc: "response_bytes" },
  in_queue: { type: "gauge", help: "Requests waiting to be written", nc: "in_queue" },
  in_queue_bytes: { type: "gauge", help: "Bytes waiting to be written", nc: "in_queue_bytes" },
  out_queue: { type: "gauge", help: "Requests sent, awaiting a reply", nc: "out_queue" },
  out_queue_bytes: {
    type: "gauge",
    help: "Bytes of requests awaiting a reply",
    nc: "out_queue_bytes",
  },
  unsolicited_skipped: {
    type: "counter",
    help: "Frames no request asked for (RESP3 pushes) skipped on shared connections",
  },
  dedicated_leased: {
    type: "gauge",
    help: "Dedicated connections held by a client (blocking command, WATCH, subscriber mode, MONITOR)",
  },
  dedicated_idle: {
    type: "gauge",
    help: "Dedicated connections open and free for the next client",
  },
  dedicated_opened: { type: "counter", help: "Dedicated connections opened" },
  dedicated_refused: {
    type: "counter",
    help: "Requests refused because every dedicated connection was in use (redis_dedicated_connections)",
  },
} satisfies MetricTable;
export type ProxyServerCounters = Counters<typeof proxyServerMetrics>;

/** Node-to-node replication (`keepcache node -x`); reported by `stats` after the node's own lines. */
export const replicationMetrics = {
  repl_mutations_logged: {
    type: "counter",
    help: "Local mutations written to the replication backlog",
    stat: "repl_mutations_logged",
    prom: "mutations_logged",
  },
  repl_mutations_applied: {
    type: "counter",
    help: "Records from peers applied (live and snapshot)",
    stat: "repl_mutations_applied",
    prom: "mutations_applied",
  },
  repl_mutations_stale: {
    type: "counter",
    help: "Records from peers ignored as older than the local version",
    stat: "repl_mutations_stale",
    prom: "mutations_stale",
  },
  repl_apply_failures: {
    type: "counter",
    help: "Records from peers that found no memory",
    stat: "repl_apply_failures",
    prom: "apply_failures",
  },
  repl_full_syncs: {
    type: "counter",
    help: "Full syncs received from peers",
    stat: "repl_full_syncs",
    prom: "full_syncs",
  },
  repl_partial_syncs: {
    type: "counter",
    help: "Incremental (backlog) syncs received from peers",
    stat: "repl_partial_syncs",
    prom: "partial_syncs",
  },
  repl_full_syncs_served: {
    type: "counter",
    help: "Full syncs sent to peers",
    stat: "repl_full_syncs_served",
    prom: "full_syncs_served",
  },
  repl_partial_syncs_served: {
    type: "counter",
    help: "Incremental syncs sent to peers",
    stat: "repl_partial_syncs_served",
    prom: "partial_syncs_served",
  },
  repl_backlog_overruns: {
    type: "counter",
    help: "Peer links dropped because the peer fell behind the backlog",
    stat: "repl_backlog_overruns",
    prom: "backlog_overruns",
  },
  repl_auth_failures: {
    type: "counter",
    help: "Replication handshakes refused for a wrong secret",
    stat: "repl_auth_failures",
    prom: "auth_failures",
  },
  repl_sync_timeouts: {
    type: "counter",
    help: "Writes answered 'replication timeout' in sync mode",
    stat: "repl_sync_timeouts",
    prom: "sync_timeouts",
  },
} satisfies MetricTable;

export type ReplicationCounters = Counters<typeof replicationMetrics>;

/** A TCP balancing service (`tcp:`; src/tcp/counters.ts ServiceCounters). */
export const tcpServiceMetrics = {
  connectionsTotal: { type: "counter", help: "Client connections accepted", prom: "connections" },
  active: { type: "gauge", help: "Client connections open" },
  bytesIn: { type: "counter", help: "Bytes from clients relayed to servers", prom: "in_bytes" },
  bytesOut: { type: "counter", help: "Bytes from servers relayed to clients", prom: "out_bytes" },
  queueLength: { type: "gauge", help: "Clients waiting for a server slot (maxconn)" },
  queuedTotal: { type: "counter", help: "Clients that had to wait in the queue", prom: "queued" },
  queueTimeouts: { type: "counter", help: "Queued clients closed after queue_timeout" },
  queueFull: { type: "counter", help: "Clients refused because the queue was full" },
  connectFailures: { type: "counter", help: "Connections to servers that failed" },
  noServer: { type: "counter", help: "Clients closed because no server could take them" },
  sorryConnections: { type: "counter", help: "Clients sent to the sorry server" },
  transitions: { type: "counter", help: "Server health changes (up/down)" },
} satisfies MetricTable;

/** One server of a TCP service (src/tcp/counters.ts ServerCounters). */
export const tcpServerMetrics = {
  connectionsTotal: {
    type: "counter",
    help: "Connections relayed to this server",
    prom: "connections",
  },
  active: { type: "gauge", help: "Connections open to this server" },
  bytesIn: { type: "counter", help: "Bytes sent to this server", prom: "in_bytes" },
  bytesOut: { type: "counter", help: "Bytes received from this server", prom: "out_bytes" },
  connectFailures: { type: "counter", help: "Connections to this server that failed" },
  transitions: { type: "counter", help: "Health changes (up/down)" },
  up: { type: "gauge", help: "1 while the server is in the routing snapshot (healthy), else 0" },
} satisfies MetricTable;

/** The VRRP states (RFC 5798 §6.4) and keepalived's FAULT, the values of the `state` label. */
export const VRRP_STATES = ["INIT", "BACKUP", "MASTER", "FAULT"] as const;

/** A VRRP instance (src/vrrp/router.ts RouterStatus), labelled {vrrp_instance}. */
export const vrrpMetrics = {
  state: {
    type: "gauge",
    label: "state",
    help: "1 for the instance's current state (INIT, BACKUP, MASTER, FAULT), 0 for the others",
  },
  master: { type: "gauge", help: "1 while this host is MASTER of the instance" },
  transitions: { type: "counter", help: "State changes since the instance started" },
  priority: { type: "gauge", help: "Effective priority (trackers included)" },
  base_priority: { type: "gauge", help: "Configured priority" },
  adverts_sent: { type: "counter", help: "VRRP advertisements sent" },
  adverts_received: { type: "counter", help: "VRRP advertisements accepted" },
} satisfies MetricTable;

/**
 * The health of one proxy server or replica-set member, computed at scrape time
 * (admin/sources/proxy.ts), labelled like proxyServerMetrics.
 */
export const proxyServerStateMetrics = {
  up: {
    type: "gauge",
    help: "1 while the server takes requests (in the routing table, or a live set member), else 0",
  },
  ejected: {
    type: "gauge",
    label: "reason",
    help: "1 while the server is out for this reason (failure_limit, health_check, member_down), else 0",
  },
} satisfies MetricTable;

/** The `reason` label values of proxyServerStateMetrics.ejected. */
export const EJECT_REASONS = ["failure_limit", "health_check", "member_down"] as const;

/** One replica set of a pool, labelled {pool, set}, computed at scrape time. */
export const replicaSetMetrics = {
  primary: {
    type: "gauge",
    label: "member",
    prom: "primary_info",
    help: "1 for the member writes go to (no sample while the set has none)",
  },
  members: { type: "gauge", help: "Members configured" },
  live: { type: "gauge", prom: "live_members", help: "Members up (warming ones excluded)" },
  quorum: {
    type: "gauge",
    prom: "quorum_members",
    help: "Live members a majority needs: floor(members / 2) + 1",
  },
  failovers: {
    type: "counter",
    label: "outcome",
    help: "Failovers: switched (the write target moved) or aborted (the master came back first)",
  },
} satisfies MetricTable;

/** One replication peer of a node (`keepcache node -x`), labelled {node, peer}. */
export const replicationPeerMetrics = {
  state: {
    type: "gauge",
    label: "state",
    prom: "peer_state",
    help: "1 for the pull link's current state (online, full_sync, connecting, ...), 0 for the others",
  },
  lagSeconds: {
    type: "gauge",
    prom: "peer_lag_seconds",
    help: "Age of the oldest local write the peer has not acknowledged",
  },
  lagOps: {
    type: "gauge",
    prom: "peer_lag_ops",
    help: "Local writes the peer has not acknowledged",
  },
} satisfies MetricTable;

/** The process itself: subsystem "" (keepcache_build_info). */
export const buildMetrics = {
  build_info: { type: "gauge", label: "version", help: "1, labelled with keepcache's version" },
} satisfies MetricTable;

/**
 * `keepcache run`'s config file: loads at start and on SIGHUP (names as Prometheus' own
 * prometheus_config_last_reload_* metrics).
 */
export const configMetrics = {
  reloads: {
    type: "counter",
    label: "result",
    help: "Config loads and SIGHUP reloads by result (success, failure)",
  },
  last_reload_successful: {
    type: "gauge",
    help: "1 if the last load or reload of the config file succeeded, else 0",
  },
  last_reload_success_timestamp_seconds: {
    type: "gauge",
    help: "When the config file was last loaded successfully, in seconds since the epoch",
    omitZero: true,
  },
} satisfies MetricTable;

/** The Sentinel-compatible endpoint (`sentinel: { listen }`, src/sentinel/). */
export const sentinelMetrics = {
  client_connections: { type: "gauge", help: "Open connections to the Sentinel endpoint" },
  connections: { type: "counter", help: "Connections accepted by the Sentinel endpoint" },
  events_published: {
    type: "counter",
    help: "Sentinel events (+switch-master, +sdown, ...) published to subscribers",
  },
  output_overflow_closes: {
    type: "counter",
    help: "Clients disconnected for leaving more than output_limit bytes of replies unread",
  },
} satisfies MetricTable;
export type SentinelCounters = Counters<typeof sentinelMetrics>;
