/**
 * The Prometheus side of proxy servers and replica sets, read at scrape time:
 *   - every server (and every member of a replica set, labelled "set/host:port") gets the
 *     twemproxy counters of proxyServerMetrics, its latency histogram and its state
 *     (keepcache_proxy_server_up, keepcache_proxy_server_ejected{reason});
 *   - a replica set itself has no server series (its traffic is its members'), but its own
 *     state: keepcache_replicaset_primary_info{member}, _members, _live_members,
 *     _quorum_members and keepcache_replicaset_failovers_total{outcome}.
 */
import {
  EJECT_REASONS,
  proxyServerMetrics,
  proxyServerStateMetrics,
  replicaSetMetrics,
} from "../../metrics/table.js";
import { type StatsWorkers, serverQueues } from "../../proxy/stats.js";
import type { AdminServer } from "../http.js";
import type { BackendServer, PoolTarget, ReplicaSet } from "./proxy-types.js";

type Reason = (typeof EJECT_REASONS)[number];

function ejected(reason: Reason | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of EJECT_REASONS) out[r] = r === reason ? 1 : 0;
  return out;
}

/** A pool server's state: out of the table by passive ejection, its health check, or the operator. */
export function serverState(s: BackendServer): { up: number; ejected: Record<string, number> } {
  const st = s.pool.control.state(s);
  const reason: Reason | undefined =
    st.ejectedUntil !== 0 ? "failure_limit" : st.healthDown ? "health_check" : undefined;
  const up = reason === undefined && st.adminState === "enabled" ? 1 : 0;
  return { up, ejected: ejected(reason) };
}

/** A set member's state, from the set's current view (its monitor decides, not the pool). */
function memberState(set: ReplicaSet, i: number): { up: number; ejected: Record<string, number> } {
  const h = set.view.members[i]?.health;
  // A warming member is neither serving reads nor out for a fault: up 0, no ejection.
  return {
    up: h === "up" ? 1 : 0,
    ejected: ejected(h === "down" || h === "fenced" ? "member_down" : undefined),
  };
}

/** Registers one server (or set member, `member` = [set, index]); returns the undo. */
export function registerServer(
  admin: AdminServer,
  s: BackendServer,
  labels: { pool: string; server: string },
  workers: () => StatsWorkers | undefined,
  member?: [ReplicaSet, number],
): () => void {
  const undo = [
    admin.metrics.registerSource(
      proxyServerMetrics,
      { subsystem: "proxy_server", labels },
      // Queue gauges over every process, by the stats port's own reader.
      () => ({ ...s.counters, ...serverQueues(s, workers()) }),
    ),
    admin.metrics.registerSource(
      proxyServerStateMetrics,
      { subsystem: "proxy_server", labels },
      () => (member ? memberState(member[0], member[1]) : serverState(s)),
    ),
    admin.metrics.registerHistogram(
      {
        subsystem: "proxy_server",
        name: "request_duration",
        help: "Time from queueing a request to a backend until its reply",
        labels,
      },
      s.latency,
    ),
  ];
  return () => {
    for (const u of undo) u();
  };
}

/** Registers a replica set's own state; returns the undo. */
export function registerReplicaSet(admin: AdminServer, pool: string, set: ReplicaSet): () => void {
  // Failovers that ended without a switch (the master answered again) are only events.
  let aborted = 0;
  const unsubscribe = set.events.subscribe((e) => {
    if (e.type === "failover" && e.phase === "end") aborted++;
  });
  const undoSource = admin.metrics.registerSource(
    replicaSetMetrics,
    { subsystem: "replicaset", labels: { pool, set: set.name } },
    () => {
      const v = set.view;
      const primary = v.writeTarget >= 0 ? set.members[v.writeTarget]?.label : undefined;
      const n = set.members.length;
      return {
        primary: primary === undefined ? {} : { [primary]: 1 },
        members: n,
        live: v.members.filter((m) => m.health === "up").length,
        quorum: Math.floor(n / 2) + 1,
        failovers: { switched: set.controller.failovers, aborted },
      };
    },
  );
  return () => {
    unsubscribe();
    undoSource();
  };
}

/** One entry of a pool's list as the admin plane registers it. */
export type Entry =
  | { kind: "server"; s: BackendServer; label: string; member?: [ReplicaSet, number] }
  | { kind: "set"; s: ReplicaSet; label: string };

/**
 * Every entry of a pool's list with its metric label: a server, or a replica set (its own
 * state) followed by each member's server series.
 */
export function* serverEntries(list: readonly PoolTarget[]): Iterable<Entry> {
  for (const t of list) {
    if (t.kind === "server") {
      yield { kind: "server", s: t, label: t.name };
      continue;
    }
    yield { kind: "set", s: t, label: t.name };
    for (let i = 0; i < t.members.length; i++) {
      const m = t.members[i];
      yield { kind: "server", s: m, label: `${t.name}/${m.label}`, member: [t, i] };
    }
  }
}
