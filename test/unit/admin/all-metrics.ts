/**
 * Every metrics table with the subsystem its source registers it under (src/admin/sources,
 * node-source.ts, run-admin.ts, http.ts), and the names they expose: for the naming test and
 * for checking that the shipped rules and dashboard only use names that exist.
 */
import { metricName } from "../../../src/admin/registry.js";
import {
  buildMetrics,
  configMetrics,
  type MetricTable,
  nodeMetrics,
  proxyPoolMetrics,
  proxyServerMetrics,
  proxyServerStateMetrics,
  replicaSetMetrics,
  replicationMetrics,
  replicationPeerMetrics,
  sentinelMetrics,
  storeMetrics,
  tcpServerMetrics,
  tcpServiceMetrics,
  vrrpMetrics,
} from "../../../src/metrics/table.js";

export const ALL_TABLES: [string, MetricTable][] = [
  ["node", nodeMetrics],
  ["store", storeMetrics],
  ["proxy_pool", proxyPoolMetrics],
  ["proxy_server", proxyServerMetrics],
  ["proxy_server", proxyServerStateMetrics],
  ["replication", replicationMetrics],
  ["replication", replicationPeerMetrics],
  ["replicaset", replicaSetMetrics],
  ["tcp_service", tcpServiceMetrics],
  ["tcp_server", tcpServerMetrics],
  ["vrrp", vrrpMetrics],
  ["sentinel", sentinelMetrics],
  ["config", configMetrics],
  ["", buildMetrics],
];

/** Histograms registered outside the tables (admin/sources/proxy-metrics.ts). */
const HISTOGRAMS = ["keepcache_proxy_server_request_duration_seconds"];

/** Every keepcache_* sample name /metrics can hold. */
export function allMetricNames(): Set<string> {
  const out = new Set<string>();
  for (const [sub, table] of ALL_TABLES) {
    for (const [k, def] of Object.entries(table)) out.add(metricName(sub, k, def));
  }
  for (const h of HISTOGRAMS) for (const s of ["_bucket", "_sum", "_count"]) out.add(h + s);
  return out;
}
