/**
 * Replication lines of the node's `stats` reply: the counters from the metrics table, then per
 * peer `peer:<host:port>:<field>`. lag_ops/lag_ms say how far the peer is behind applying this
 * node's writes (from its ACKs); state/last_sync describe this node's pull from the peer.
 */
import { replicationMetrics } from "../../metrics/table.js";
import type { Replication } from "./replication.js";

export function replicationStats(r: Replication): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ["repl_node_id", String(r.identity.nodeId)],
    ["repl_port", String(r.identity.replPort)],
    ["repl_run_id", r.identity.runId.toString("hex")],
    ["repl_offset", String(r.backlog.headSeq)],
    ["repl_backlog_first", String(r.backlog.firstSeq)],
    ["repl_backlog_bytes", String(r.backlog.capacity)],
    ["repl_sync_replicas", String(r.opts.syncReplicas)],
    ["repl_sync_acked", String(r.syncAcked)],
  ];
  const c = r.counters as Record<string, number>;
  for (const [key, def] of Object.entries(replicationMetrics)) out.push([def.stat, String(c[key])]);
  const now = Date.now();
  for (const p of r.peers.values()) {
    const l = p.link;
    const pre = `peer:${l.key}:`;
    const lagOps = Math.max(0, r.backlog.headSeq - p.ackedSeq);
    out.push(
      [`${pre}state`, l.state],
      [`${pre}node_id`, String(p.nodeId)],
      [`${pre}lag_ops`, String(lagOps)],
      [`${pre}lag_ms`, String(Math.round(r.backlog.lagMs(p.ackedSeq, now)))],
      [`${pre}acked`, String(p.ackedSeq)],
      [`${pre}last_sync`, l.lastSync],
      [
        `${pre}last_sync_age`,
        String(l.lastSyncAt === 0 ? -1 : Math.round((now - l.lastSyncAt) / 1000)),
      ],
      [`${pre}applied`, String(l.applied)],
      [`${pre}rtt_ms`, String(l.rttMs)],
      [`${pre}serving`, p.feeder?.mode ?? "none"],
    );
  }
  return out;
}
