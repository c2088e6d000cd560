/**
 * Wires a running proxy (ProxyService) into an AdminServer:
 *   - Prometheus: the pool table of src/metrics/table.ts (keepcache_proxy_pool_*), and per
 *     server and replica set what proxy-metrics.ts registers (counters, latency, state);
 *   - a "pool" status provider per pool, and the server actions (proxy-actions.ts);
 *   - ejection, reinstatement and health events for the dashboard's history, from the events
 *     of each pool's control plane (proxy/control.ts) as they happen.
 * Pools and servers that come and go with a SIGHUP reload are picked up by sync(), which the
 * caller runs after every reload.
 */

import { proxyPoolMetrics } from "../../metrics/table.js";
import type { AdminServer } from "../http.js";
import type { Health } from "../status.js";
import { findPool, serverActions } from "./proxy-actions.js";
import { registerReplicaSet, registerServer, serverEntries } from "./proxy-metrics.js";
import { type ProxyStatusHooks, poolStatus, ServerTracks, serverHealth } from "./proxy-status.js";
import type { BackendServer, ProxyLike, ReplicaSet } from "./proxy-types.js";

export interface AttachProxyOptions extends ProxyStatusHooks {
  /** Register the server actions (default true). `keepcache up` offers failover instead. */
  serverActions?: boolean;
}

export interface ProxyAttachment {
  /** Registers pools/servers added by a reload and drops removed ones. */
  sync(): void;
  detach(): void;
}

interface Seen {
  undo: () => void;
  ejectedAt: number;
  health: Health;
  /** The pool's name and the server's metric label, for its events. */
  pool: string;
  label: string;
}

function addressText(a: unknown): string | undefined {
  if (typeof a === "string") return a === "" ? undefined : a;
  if (a !== null && typeof a === "object" && "port" in a && "address" in a) {
    const { address, port } = a as { address: string; port: number };
    return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
  }
  return undefined;
}

export function attachProxy(
  admin: AdminServer,
  proxy: ProxyLike,
  opts: AttachProxyOptions = {},
): ProxyAttachment {
  const tracks = new ServerTracks();
  const hooks: ProxyStatusHooks = {
    listen: (name) => addressText(proxy.addresses?.get(name)),
    workers: () => proxy.workers,
    ...opts,
  };
  /** Registrations by pool name, with the pool object they subscribed to. */
  const pools = new Map<string, { pool: object; undo: () => void }>();
  const servers = new Map<BackendServer | ReplicaSet, Seen>();

  const watchServer = (poolName: string, s: BackendServer, seen: Seen, label: string) => {
    const at = s.counters.server_ejected_at;
    const subject = `${poolName}/${label}`;
    if (at !== seen.ejectedAt && at !== 0) {
      seen.ejectedAt = at;
      tracks.get(s).ejections++;
      const why = s.pool.control.state(s).healthDown
        ? "health check failed"
        : "failure limit reached";
      admin.events.push({
        kind: "eject",
        subject,
        message: `ejected (${why}); keys move to the other servers`,
        level: "warn",
        data: { pool: poolName, server: label, address: s.label },
      });
    }
    const h = serverHealth(s);
    if (h === seen.health) return;
    const from = seen.health;
    seen.health = h;
    // Operator states are recorded by the action itself.
    if (h === "disabled" || h === "draining" || from === "disabled" || from === "draining") return;
    if (h === "up") {
      admin.events.push({
        kind: "restore",
        subject,
        message: `back in the pool (was ${from})`,
        data: { pool: poolName, server: label },
      });
    } else if (h === "down") {
      admin.events.push({
        kind: "health",
        subject,
        message: "health check failing",
        level: "warn",
        data: { pool: poolName, server: label },
      });
    }
  };

  const sync = () => {
    const livePools = new Set<string>();
    const liveServers = new Set<BackendServer | ReplicaSet>();
    for (const pool of proxy.pools()) {
      const name = pool.name;
      livePools.add(name);
      const had = pools.get(name);
      // A pool restarted under the same name (a new listener) is a new object: subscribe again.
      if (had !== undefined && had.pool !== pool) {
        had.undo();
        pools.delete(name);
      }
      if (!pools.has(name)) {
        const undo = [
          admin.metrics.registerSource(
            proxyPoolMetrics,
            { subsystem: "proxy_pool", labels: { pool: name } },
            () => findPool(proxy, name)?.counters,
          ),
          admin.status.register({
            kind: "pool",
            name,
            snapshot: () => {
              const p = findPool(proxy, name);
              if (p === undefined) throw new Error("pool stopped");
              return poolStatus(p, tracks, hooks);
            },
          }),
        ];
        if (opts.serverActions ?? true) {
          undo.push(admin.actions.register(serverActions(proxy, name, hooks)));
        }
        // A server's control state changed (ejected, back, health verdict, operator): record
        // the transition now.
        undo.push(
          pool.control.subscribe((ev) => {
            const s = ev.type === "operator" ? ev.target : ev.server;
            const seen = servers.get(s);
            if (seen !== undefined && s.kind === "server")
              watchServer(seen.pool, s, seen, seen.label);
          }),
        );
        pools.set(name, {
          pool,
          undo: () => {
            for (const u of undo) u();
          },
        });
      }
      for (const e of serverEntries(pool.servers)) {
        liveServers.add(e.s);
        let seen = servers.get(e.s);
        // A set's traffic is its members': it registers its own state only, and has no
        // ejections or health checks of its own to watch.
        if (e.kind === "set") {
          if (seen === undefined)
            servers.set(e.s, {
              undo: registerReplicaSet(admin, name, e.s),
              ejectedAt: 0,
              health: "up",
              pool: name,
              label: e.label,
            });
          continue;
        }
        const s = e.s;
        if (seen === undefined) {
          seen = {
            undo: registerServer(
              admin,
              s,
              { pool: name, server: e.label },
              () => proxy.workers,
              e.member,
            ),
            ejectedAt: s.counters.server_ejected_at,
            health: serverHealth(s),
            pool: name,
            label: e.label,
          };
          servers.set(s, seen);
        }
        watchServer(name, s, seen, e.label);
      }
    }
    for (const [name, p] of pools) {
      if (!livePools.has(name)) {
        p.undo();
        pools.delete(name);
      }
    }
    for (const [s, seen] of servers) {
      if (!liveServers.has(s)) {
        seen.undo();
        servers.delete(s);
      }
    }
  };

  sync();
  return {
    sync,
    detach() {
      for (const p of pools.values()) p.undo();
      for (const s of servers.values()) s.undo();
      pools.clear();
      servers.clear();
    },
  };
}
