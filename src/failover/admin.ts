/**
 * Replica sets in the admin plane: a "pool" StatusProvider per pool that
 * lists each replica set's members with their current role and health from the set's view,
 * a `member` hook for admin/sources/proxy-status.ts (ProxyStatusHooks.member), and the
 * `POST /api/v1/pools/{pool}/failover` ActionHandler (`shard` names the set, `to` the member
 * to promote). `keepcache run` registers these with its AdminServer when it has one.
 */
import { ActionError, type ActionHandler } from "../admin/actions.js";
import type { PoolStatus, ServerStatus, StatusProvider } from "../admin/status.js";
import { formatEndpoint } from "../config/schema/common.js";
import type { ProxyPool } from "../proxy/pool.js";
import type { ProxyService } from "../proxy/proxy.js";
import type { ReplicaSet } from "../proxy/replicaset/set.js";

function sets(pool: ProxyPool): ReplicaSet[] {
  return pool.servers.filter((s): s is ReplicaSet => s.kind === "set");
}

function memberStatus(set: ReplicaSet, i: number): ServerStatus {
  const m = set.members[i];
  const v = set.view.members[i];
  const c = m.counters;
  return {
    name: m.label,
    address: m.label,
    role: i === set.view.writeTarget || v.role === "master" ? "master" : "replica",
    health: v.health === "up" ? "up" : v.health === "warming" ? "draining" : "down",
    weight: v.weight,
    opsPerSec: 0,
    latencyMs: { p50: null, p99: null },
    errors: c.server_err + c.server_timedout,
    ejections: 0,
    ...(v.health !== "up" ? { detail: v.health } : {}),
  };
}

export function poolSnapshot(pool: ProxyPool): PoolStatus {
  let failovers = 0;
  const shards = pool.servers.map((s) => {
    if (s.kind === "set") {
      failovers += s.controller.failovers;
      return { name: s.name, members: s.members.map((_, i) => memberStatus(s, i)) };
    }
    return {
      name: s.name,
      members: [
        {
          name: s.name,
          address: s.label,
          role: "server" as const,
          health: pool.control.state(s).healthDown ? ("down" as const) : ("up" as const),
          weight: pool.control.state(s).weightOverride ?? 1,
          opsPerSec: 0,
          latencyMs: { p50: null, p99: null },
          errors: s.counters.server_err,
          ejections: 0,
        },
      ],
    };
  });
  const cfg = pool.config;
  return {
    name: pool.name,
    protocol: cfg.redis ? "redis" : "memcache",
    listen: formatEndpoint(cfg.listen),
    distribution: cfg.distribution,
    hash: cfg.hash,
    clientConnections: pool.counters.client_connections,
    opsPerSec: 0,
    errors: pool.counters.forward_error,
    shards,
    failovers,
  };
}

/** Failovers done or followed by the replica sets of a pool since they started. */
export function setFailovers(proxy: ProxyService, pool: string): number {
  const p = proxy.pools_.get(pool);
  return p === undefined ? 0 : sets(p).reduce((n, s) => n + s.controller.failovers, 0);
}

/** One "pool" status provider per pool of the proxy (pools added by a reload: call again). */
export function poolStatusProviders(proxy: ProxyService): StatusProvider<"pool">[] {
  return [...proxy.pools()].map((p) => ({
    kind: "pool" as const,
    name: p.name,
    snapshot: () => poolSnapshot(proxy.pools_.get(p.name) ?? p),
  }));
}

/** ProxyStatusHooks.member for admin/sources/proxy-status.ts: a member's role and health. */
export function replicaSetMemberHook(proxy: ProxyService) {
  return (pool: string, shard: string, address: string) => {
    const set = sets(proxy.pools_.get(pool) as ProxyPool).find((s) => s.name === shard);
    const i = set?.members.findIndex((m) => m.label === address) ?? -1;
    if (set === undefined || i < 0) return undefined;
    const st = memberStatus(set, i);
    return { role: st.role, health: st.health, ...(st.detail ? { detail: st.detail } : {}) };
  };
}

/** The manual failover action for every pool (`shard` may be left out when a pool has one set). */
export function poolActionHandlers(proxy: ProxyService): ActionHandler[] {
  return [
    {
      kind: "pool",
      name: "*",
      async handle(action) {
        if (action.kind !== "pool") throw new ActionError(400, "not a pool action");
        const pool = proxy.pools_.get(action.pool);
        if (pool === undefined) throw new ActionError(404, `no pool named '${action.pool}'`);
        const all = sets(pool);
        const set =
          action.shard !== undefined
            ? all.find((s) => s.name === action.shard)
            : all.length === 1
              ? all[0]
              : undefined;
        if (set === undefined)
          throw new ActionError(
            404,
            action.shard !== undefined
              ? `pool '${action.pool}' has no replica set '${action.shard}'`
              : `pool '${action.pool}' has ${all.length} replica sets; name one with "shard"`,
          );
        try {
          const message = await set.controller.failover(action.to);
          return { message: `${action.pool}/${set.name}: ${message}` };
        } catch (err) {
          throw new ActionError(409, `${action.pool}/${set.name}: ${(err as Error).message}`);
        }
      },
    },
  ];
}
