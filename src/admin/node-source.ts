/**
 * Wires an in-process cache node (CacheNode) into an AdminServer: its counters and store
 * figures as Prometheus sources (labelled {node}), and a "node" status provider for the
 * dashboard. Used by `keepcache node --admin` and, later, `keepcache up`.
 */
import {
  nodeMetrics,
  replicationMetrics,
  replicationPeerMetrics,
  storeMetrics,
} from "../metrics/table.js";
import type { NodeContext } from "../node/context.js";
import type { LinkState } from "../node/replication/pull-link.js";
import type { Replication } from "../node/replication/replication.js";
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
  /** Replication peers; default: read from the node's own replication, if it has one. */
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
  const repl = node.ctx.repl;
  if (repl !== undefined) {
    undo.push(
      admin.metrics.registerSource(replicationMetrics, { subsystem: "replication", labels }, () =>
        node.listening ? repl.counters : undefined,
      ),
    );
    // Peers that dial in are adopted at run time (repcached's -x on one side only): looked
    // for again every second.
    const known = new Set<string>();
    const watchPeers = () => {
      for (const key of repl.peers.keys()) {
        if (known.has(key)) continue;
        known.add(key);
        undo.push(
          admin.metrics.registerSource(
            replicationPeerMetrics,
            { subsystem: "replication", labels: { ...labels, peer: key } },
            () => (node.listening ? peerSample(repl, key) : undefined),
          ),
        );
      }
    };
    watchPeers();
    const timer = setInterval(watchPeers, 1000);
    timer.unref();
    undo.push(() => clearInterval(timer));
  }
  const peers = opts.peers ?? (repl ? () => replicationPeers(repl) : () => []);
  const ops = new RateMeter();
  // A closed node no longer knows its bound port; keep showing where it was.
  let lastAddress = "";
  undo.push(
    admin.status.register({
      kind: "node",
      name: opts.name,
      snapshot: (): NodeStatus => {
        const c = node.ctx.counters;
        const s = node.ctx.store.stats(node.ctx.now());
        if (node.listening || lastAddress === "") {
          const a = node.address();
          lastAddress = `${a.host}:${a.port}`;
        }
        const lookups = c.get_hits + c.get_misses;
        const total =
          c.cmd_get + c.cmd_set + c.cmd_touch + c.cmd_meta + c.delete_hits + c.delete_misses;
        return {
          name: opts.name,
          address: lastAddress,
          up: node.listening,
          uptimeSec: Math.max(0, Math.floor(Date.now() / 1000) - node.ctx.startedAt),
          memory: { usedBytes: s.bytes, limitBytes: s.limitMaxbytes },
          items: s.currItems,
          hitRatio: lookups === 0 ? null : c.get_hits / lookups,
          opsPerSec: node.listening ? Math.round(ops.update(total, Date.now()) * 10) / 10 : 0,
          connections: c.curr_connections,
          evictions: s.evictions,
          peers: node.listening ? peers() : [],
        };
      },
    }),
  );
  return () => {
    for (const u of undo) u();
  };
}

/** Every pull-link state but "self", the values of keepcache_replication_peer_state{state}. */
const LINK_STATES: readonly LinkState[] = [
  "connecting",
  "handshake",
  "sync_wait",
  "full_sync",
  "online",
  "down",
  "auth_failed",
];

/** One peer's state and lag, as `stats` reports them (lag from the peer's ACKs). */
function peerSample(r: Replication, key: string) {
  const p = r.peers.get(key);
  if (p === undefined || p.link.state === "self") return undefined;
  const state: Record<string, number> = {};
  for (const s of LINK_STATES) state[s] = s === p.link.state ? 1 : 0;
  return {
    state,
    lagSeconds: r.backlog.lagMs(p.ackedSeq, Date.now()) / 1000,
    lagOps: Math.max(0, r.backlog.headSeq - p.ackedSeq),
  };
}

/** The pull-link state, folded into the dashboard's four peer states. */
function peerState(s: string): PeerStatus["state"] {
  if (s === "online") return "connected";
  if (s === "full_sync" || s === "sync_wait") return "syncing";
  if (s === "connecting" || s === "handshake") return "connecting";
  return "down";
}

/** Peers as `stats` reports them (replication/stats.ts): lag from the peer's ACKs. */
export function replicationPeers(r: Replication): PeerStatus[] {
  const now = Date.now();
  const out: PeerStatus[] = [];
  for (const p of r.peers.values()) {
    if (p.link.state === "self") continue;
    out.push({
      name: p.link.key,
      address: p.link.key,
      state: peerState(p.link.state),
      lagMs: Math.round(r.backlog.lagMs(p.ackedSeq, now)),
      pending: Math.max(0, r.backlog.headSeq - p.ackedSeq),
    });
  }
  return out;
}
