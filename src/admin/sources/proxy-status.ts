/**
 * The view of a proxy pool (status.ts PoolStatus) for the dashboard, the admin API and the
 * SIGUSR1 dump: one shard per configured server; a replica set is one shard listing its
 * members with their live figures, and their role and health from the set's current view
 * (a hook may rename them: ProxyStatusHooks.member).
 */

import { formatEndpoint } from "../../config/schema/common.js";
import { ClusterControl } from "../../proxy/cluster/control.js";
import { type StatsWorkers, serverQueues } from "../../proxy/stats.js";
import { RateMeter } from "../rate.js";
import type { Health, PoolStatus, ServerStatus, ShardStatus } from "../status.js";
import { RecentQuantiles } from "./latency.js";
import type { BackendServer, PoolTarget, ProxyPoolLike, ReplicaSet } from "./proxy-types.js";

export interface MemberInfo {
  name?: string;
  role?: ServerStatus["role"];
  health?: Health;
  detail?: string;
}

export interface ProxyStatusHooks {
  /**
   * A replica-set member, by address: `served` is true for the member the pool sends to.
   * Returns what replaces the view's: its display name (`keepcache up`), role or health.
   */
  member?(pool: string, shard: string, address: string, served: boolean): MemberInfo | undefined;
  /** The pool's bound listen address (port 0 resolved), when known. */
  listen?(pool: string): string | undefined;
  /** Failovers so far (default: those of the pool's replica sets, setFailovers). */
  failovers?(pool: string): number;
  /**
   * Reshapes a plain server's shard, for a server that stands for several members (`keepcache
   * up` fails one named server over between member processes until replica sets land).
   */
  shard?(pool: string, shard: ShardStatus): ShardStatus;
  /** The proxy's worker processes now (in-flight counts are totals over every process). */
  workers?(): StatsWorkers | undefined;
}

/** Per-server figures that need memory between snapshots. */
export interface ServerTrack {
  ops: RateMeter;
  latency: RecentQuantiles;
  ejections: number;
}

export class ServerTracks {
  private readonly map = new WeakMap<BackendServer, ServerTrack>();
  get(s: BackendServer): ServerTrack {
    let t = this.map.get(s);
    if (t === undefined) {
      t = { ops: new RateMeter(), latency: new RecentQuantiles(), ejections: 0 };
      this.map.set(s, t);
    }
    return t;
  }
}

/** Operator state first (it is what someone chose), then passive ejection, then health. */
export function serverHealth(s: BackendServer): Health {
  const st = s.pool.control.state(s);
  if (st.adminState === "disabled") return "disabled";
  if (st.adminState === "draining" || st.weightOverride === 0) return "draining";
  if (st.ejectedUntil !== 0) return "ejected";
  if (st.healthDown) return "down";
  return "up";
}

function detailOf(s: BackendServer, h: Health, hooks: ProxyStatusHooks): string | undefined {
  if (h === "ejected") {
    const until = s.pool.control.state(s).ejectedUntil;
    return `ejected until ${new Date(until).toTimeString().slice(0, 8)}`;
  }
  if (h === "down") return "health check failing";
  if (h === "draining") return `${inflight(s, hooks)} requests in flight`;
  if (s.failures > 0) return `${s.failures} consecutive failures`;
  return undefined;
}

/** Requests sent to `s` (a set: its members) and not answered yet, in every process. */
export function inflight(s: PoolTarget, hooks: ProxyStatusHooks): number {
  let n = 0;
  for (const b of s.backends) n += serverQueues(b, hooks.workers?.()).out_queue;
  return n;
}

function served(
  hooks: ProxyStatusHooks,
  s: BackendServer,
  t: ServerTrack,
  now: number,
  name: string,
  role: ServerStatus["role"],
  weight?: number,
): ServerStatus {
  const c = s.counters;
  const health = serverHealth(s);
  const out: ServerStatus = {
    name,
    address: s.label,
    role,
    health,
    weight: s.pool.control.state(s).weightOverride ?? weight ?? weightOf(s),
    opsPerSec: Math.round(t.ops.update(c.requests, now) * 10) / 10,
    latencyMs: t.latency.update(s.latency, now),
    errors: c.server_err + c.server_timedout,
    ejections: t.ejections,
  };
  const d = detailOf(s, health, hooks);
  if (d !== undefined) out.detail = d;
  return out;
}

function weightOf(s: BackendServer): number {
  const i = s.pool.servers.indexOf(s);
  return i >= 0 ? s.pool.config.servers[i].weight : 0;
}

/** The display name of the i-th server of a pool (what the server actions accept). */
export function displayName(pool: ProxyPoolLike, i: number, hooks: ProxyStatusHooks): string {
  const cfg = pool.config.servers[i];
  const s = pool.servers[i];
  if (cfg.kind === "server") return s.name;
  return hooks.member?.(pool.name, cfg.name, s.label, true)?.name ?? s.label;
}

/** A set member's role and health as the set's current view says (its controller decides). */
function memberFromView(set: ReplicaSet, i: number): MemberInfo {
  const v = set.view.members[i];
  return {
    role: i === set.view.writeTarget || v.role === "master" ? "master" : "replica",
    health: v.health === "up" ? "up" : v.health === "warming" ? "draining" : "down",
    ...(v.health !== "up" ? { detail: v.health } : {}),
  };
}

/** Failovers done or followed by the replica sets of a pool since they started. */
export function setFailovers(pool: ProxyPoolLike): number {
  let n = 0;
  for (const s of pool.servers) if (s.kind === "set") n += s.controller.failovers;
  return n;
}

export function poolStatus(
  pool: ProxyPoolLike,
  tracks: ServerTracks,
  hooks: ProxyStatusHooks,
  now = Date.now(),
): PoolStatus {
  const shards: ShardStatus[] = [];
  let ops = 0;
  // A Redis Cluster pool (proxy/cluster/control.ts): one server per master, with its slots.
  const cluster = pool.control instanceof ClusterControl ? pool.control.clusterStatus() : undefined;
  pool.config.servers.forEach((cfg, i) => {
    const s = pool.servers[i];
    if (s === undefined) return;
    if (s.kind === "server") {
      const st = served(hooks, s, tracks.get(s), now, s.name, "server");
      const cs = cluster?.shards.find((sh) => sh.master === s.label);
      if (cs !== undefined) {
        st.role = "master";
        st.detail ??= `${cs.slots} slots; replicas ${cs.replicas.join(", ") || "none"}`;
      }
      ops += st.opsPerSec;
      const shard = { name: s.name, members: [st] };
      shards.push(hooks.shard?.(pool.name, shard) ?? shard);
      return;
    }
    if (s.kind !== "set" || cfg.kind !== "replicaset") return;
    // Each member has its own counters and latency; role and health come from the set's view.
    const list = s.members.map((m, j) => {
      const info = {
        ...memberFromView(s, j),
        ...hooks.member?.(pool.name, cfg.name, m.label, true),
      };
      const name = info.name ?? m.label;
      const st = served(
        hooks,
        m,
        tracks.get(m),
        now,
        name,
        info.role ?? "replica",
        cfg.members[j].weight,
      );
      if (info.health !== undefined) st.health = info.health;
      if (info.detail !== undefined) st.detail = info.detail;
      ops += st.opsPerSec;
      return st;
    });
    shards.push({ name: cfg.name, members: list });
  });
  const c = pool.counters;
  const cfg = pool.config;
  return {
    name: pool.name,
    protocol: cfg.redis ? "redis" : "memcache",
    listen: hooks.listen?.(pool.name) ?? formatEndpoint(cfg.listen),
    distribution: cfg.distribution,
    hash: cfg.hash,
    clientConnections: c.client_connections,
    opsPerSec: Math.round(ops * 10) / 10,
    errors: c.forward_error,
    shards,
    failovers: hooks.failovers?.(pool.name) ?? setFailovers(pool),
    ...(cluster !== undefined ? { cluster } : {}),
  };
}
