/**
 * The manual failover of replica sets in the admin plane: the
 * `POST /api/v1/pools/{pool}/failover` ActionHandler (`shard` names the set, `to` the member
 * to promote), which asks the set's controller. `keepcache run` and `keepcache up` register it
 * with their AdminServer. A pool's status, sets included, is admin/sources/proxy-status.ts's.
 */
import { ActionError, type ActionHandler } from "../admin/actions.js";
import type { ProxyPool } from "../proxy/pool.js";
import type { ProxyService } from "../proxy/proxy.js";
import type { ReplicaSet } from "../proxy/replicaset/set.js";

function sets(pool: ProxyPool): ReplicaSet[] {
  return pool.servers.filter((s): s is ReplicaSet => s.kind === "set");
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
