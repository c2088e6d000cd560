/**
 * Wires an in-process cache node (CacheNode) into an AdminServer: its counters and store
 * figures as Prometheus sources (labelled {node}), and a "node" status provider for the
 * dashboard. Used by `keepcache node --admin` and, later, `keepcache up`.
 */
import { nodeMetrics, storeMetrics } from "../metrics/table.js";
import type { NodeContext } from "../node/context.js";
import type { AdminServer } from "./http.js";
import { RateMeter } from "./rate.js";
import type { NodeStatus, PeerStatus } from "./status.js";

/** The parts of CacheNode used here (structural, so tests and `up` can pass a wrapper). */
export interface NodeLike {
  readonly ctx: NodeContext;
  address(): { host: string; port: number };
  /** False once the node stopped listening (killed, closed): shown as down. */
  readonly listening: boolean;
}

export interface AttachNodeOptions {
  name: string;
  /** Replication peers as the replication subsystem reports them. */
  peers?: () => PeerStatus[];
}

/** Registers the node; returns the undo (call it when the node is removed for good). */
export function attachNode(
  admin: AdminServer,
  node: NodeLike,
  opts: AttachNodeOptions,
): () => void {
  const labels = { node: opts.name };
  const undo: (() => void)[] = [];
  undo.push(
    admin.metrics.registerSource(nodeMetrics, { subsystem: "node", labels }, () =>
      node.listening ? node.ctx.counters : undefined,
    ),
  );
  undo.push(
    admin.metrics.registerSource(storeMetrics, { subsystem: "store", labels }, () => {
      if (!node.listening) return undefined;
      const s = node.ctx.store.stats(node.ctx.now());
      // hashIsExpanding is a boolean in StoreStats; Prometheus wants 0/1.
      return { ...s, hashIsExpanding: s.hashIsExpanding ? 1 : 0 };
    }),
  );
  const ops = new RateMeter();
  undo.push(
    admin.status.register({
      kind: "node",
      name: opts.name,
      snapshot: (): NodeStatus => {
        const c = node.ctx.counters;
        const s = node.ctx.store.stats(node.ctx.now());
        const a = node.address();
        const lookups = c.get_hits + c.get_misses;
        const total =
          c.cmd_get + c.cmd_set + c.cmd_touch + c.cmd_meta + c.delete_hits + c.delete_misses;
        return {
          name: opts.name,
          address: `${a.host}:${a.port}`,
          up: node.listening,
          uptimeSec: Math.max(0, Math.floor(Date.now() / 1000) - node.ctx.startedAt),
          memory: { usedBytes: s.bytes, limitBytes: s.limitMaxbytes },
          items: s.currItems,
          hitRatio: lookups === 0 ? null : c.get_hits / lookups,
          opsPerSec: node.listening ? Math.round(ops.update(total, Date.now()) * 10) / 10 : 0,
          connections: c.curr_connections,
          evictions: s.evictions,
          peers: opts.peers?.() ?? [],
        };
      },
    }),
  );
  return () => {
    for (const u of undo) u();
  };
}
