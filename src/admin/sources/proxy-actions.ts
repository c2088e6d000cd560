/**
 * The server actions of the admin API for a proxy pool: disable, enable, drain, set a weight.
 * Each changes the server's operator state and swaps a new routing table (control.ts), so
 * the data plane sees the change at its next request and never a half-updated table:
 *   - drain: no NEW request is routed to the server; requests in flight finish normally;
 *   - disable: the same, and its connections are closed now (requests still in flight on them
 *     fail with an error naming the reason); use drain for a graceful removal;
 *   - enable: back in the table (a weight 0 set through the API is cleared);
 *   - weight N: the distribution is rebuilt with N (ketama points, modula slots); 0 = drain.
 * In a sharded pool a server out of the table has its keys rehashed to the others, exactly as
 * a twemproxy ejection (nc_server.c server_pool_update).
 */
import { type Action, ActionError, type ActionHandler, type ActionResult } from "../actions.js";
import { displayName, inflight, type ProxyStatusHooks } from "./proxy-status.js";
import type { PoolTarget, ProxyLike, ProxyPoolLike } from "./proxy-types.js";

export function findPool(proxy: ProxyLike, name: string): ProxyPoolLike | undefined {
  for (const p of proxy.pools()) if (p.name === name) return p;
  return undefined;
}

/** By display name, stats name or address. */
export function findServer(
  pool: ProxyPoolLike,
  name: string,
  hooks: ProxyStatusHooks,
): PoolTarget | undefined {
  for (let i = 0; i < pool.servers.length; i++) {
    const s = pool.servers[i];
    if (s.name === name || s.label === name || displayName(pool, i, hooks) === name) return s;
  }
  return undefined;
}

export function serverActions(
  proxy: ProxyLike,
  poolName: string,
  hooks: ProxyStatusHooks = {},
): ActionHandler {
  return {
    kind: "server",
    name: poolName,
    handle: (a: Action): ActionResult => {
      if (a.kind !== "server") throw new ActionError(400, "not a server action");
      const pool = findPool(proxy, a.pool);
      if (pool === undefined) throw new ActionError(404, `no pool '${a.pool}'`);
      const s = findServer(pool, a.server, hooks);
      if (s === undefined)
        throw new ActionError(404, `pool '${a.pool}' has no server '${a.server}'`);
      const who = `${a.pool}/${a.server}`;
      const before = pool.table.version;
      switch (a.op) {
        case "drain":
          pool.control.drain(s);
          return result(`${who} draining (${inflight(s, hooks)} requests in flight)`, pool, before);
        case "disable": {
          const n = inflight(s, hooks);
          pool.control.disable(s);
          return result(`${who} disabled (${n} requests in flight failed)`, pool, before);
        }
        case "enable":
          pool.control.enable(s);
          return result(`${who} enabled`, pool, before);
        case "weight":
          pool.control.setWeight(s, a.weight);
          return result(
            a.weight === 0 ? `${who} weight 0: no new requests` : `${who} weight ${a.weight}`,
            pool,
            before,
          );
      }
    },
  };
}

function result(message: string, pool: ProxyPoolLike, before: number): ActionResult {
  return { message, data: { tableVersion: pool.table.version, previousVersion: before } };
}
