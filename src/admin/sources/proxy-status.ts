/**
 * The dashboard's view of a proxy pool (status.ts PoolStatus): one shard per configured
 * server; a replica set is one shard whose members are listed, the one the pool serves with
 * its live figures. The other members' role and health come from a hook
 * (ProxyStatusHooks.member; failover/admin.ts replicaSetMemberHook reads each set's view).
 */

import { formatEndpoint } from "../../config/schema/common.js";
import type { ClusterStatus } from "../../proxy/cluster/pool.js";
import { type StatsWorkers, serverQueues } from "../../proxy/stats.js";
import { RateMeter } from "../rate.js";
import type { Health, PoolStatus, ServerStatus, ShardStatus } from "../status.js";
import { RecentQuantiles } from "./latency.js";
import type { BackendServer, ProxyPoolLike } from "./proxy-types.js";

export interface MemberInfo {
  name?: string;
  role?: ServerStatus["role"];
  health?: Health;
  detail?: string;
}

export interface ProxyStatusHooks {
  /**
   * A replica-set member, by address: `served` is true for the member the pool sends to.
   * Returns its display name, role and (for members not served) health.
   */
  member?(pool: string, shard: string, address: string, served: boolean): MemberInfo | undefined;
  /** The pool's bound listen address (port 0 resolved), when known. */
  listen?(pool: string): string | undefined;
  /** Failovers so far (counted from the event ring by the caller). */
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
  if (s.adminState === "disabled") return "disabled";
  if (s.adminState === "draining" || s.weightOverride === 0) return "draining";
  if (s.ejectedUntil !== 0) return "ejected";
  if (s.healthDown) return "down";
  return "up";
}

function detailOf(s: BackendServer, h: Health, hooks: ProxyStatusHooks): string | undefined {
  if (h === "ejected") {
    return `ejected until ${new Date(s.ejectedUntil).toTimeString().slice(0, 8)}`;
  }
  if (h === "down") return "health check failing";
  if (h === "draining") return `${inflight(s, hooks)} requests in flight`;
  if (s.failures > 0) return `${s.failures} consecutive failures`;
  return undefined;
}

/** Requests sent to `s` and not answered yet, in every process (stats.ts serverQueues). */
export function inflight(s: BackendServer, hooks: ProxyStatusHooks): number {
  return serverQueues(s, hooks.workers?.()).out_queue;
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
    weight: s.weightOverride ?? weight ?? weightOf(s),
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

export function poolStatus(
  pool: ProxyPoolLike,
  tracks: ServerTracks,
  hooks: ProxyStatusHooks,
  now = Date.now(),
): PoolStatus {
  const shards: ShardStatus[] = [];
  let ops = 0;
  // A Redis Cluster pool (proxy/cluster/pool.ts): one server per master, with its slots.
  const cluster = (pool as { clusterStatus?: () => ClusterStatus }).clusterStatus?.();
  pool.config.servers.forEach((cfg, i) => {
    const s = pool.servers[i];
    if (s === undefined) return;
    if (cfg.kind === "server") {
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
    // Issue 5's ReplicaSet is a BackendServer holding one BackendServer per member: each
    // member has its own counters and latency; role and health come from the hook (its view).
    const own = (s as { members?: unknown }).members;
    if (Array.isArray(own) && own.length === cfg.members.length) {
      const list = (own as BackendServer[]).map((m, j) => {
        const info = hooks.member?.(pool.name, cfg.name, m.label, true) ?? {};
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
      return;
    }
    const members = cfg.members.map((m): ServerStatus => {
      const address = `${m.endpoint.host}:${m.endpoint.port}`;
      const isServed = address === s.label;
      const info = hooks.member?.(pool.name, cfg.name, address, isServed) ?? {};
      if (isServed) {
        const st = served(
          hooks,
          s,
          tracks.get(s),
          now,
          info.name ?? address,
          info.role ?? "master",
        );
        ops += st.opsPerSec;
        return st;
      }
      const standby: ServerStatus = {
        name: info.name ?? address,
        address,
        role: info.role ?? "replica",
        health: info.health ?? "unknown",
        weight: m.weight,
        opsPerSec: 0,
        latencyMs: { p50: null, p99: null },
        errors: 0,
        ejections: 0,
      };
      if (info.detail !== undefined) standby.detail = info.detail;
      return standby;
    });
    shards.push({ name: cfg.name, members });
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
    failovers: hooks.failovers?.(pool.name) ?? 0,
    ...(cluster !== undefined ? { cluster } : {}),
  };
}
