/**
 * The proxy's readiness checks (admin/ready.ts): every pool listens, and every shard has a
 * server that takes requests (a plain server in the routing table, or a replica set with a
 * live member). A proxy whose shard has nothing live answers errors for that shard's keys,
 * so a load balancer should prefer a peer.
 */
import type { ReadyCheck } from "../ready.js";
import { serverState } from "./proxy-metrics.js";
import type { ProxyLike } from "./proxy-types.js";

export function proxyReadyChecks(proxy: ProxyLike): ReadyCheck[] {
  return [
    {
      name: "pools_listening",
      ok: () => [...proxy.pools()].every((p) => p.listener?.listening === true),
    },
    {
      name: "shards_live",
      ok: () =>
        [...proxy.pools()].every((p) =>
          p.servers.every((s) =>
            s.kind === "set"
              ? s.view.members.some((m) => m.health === "up")
              : serverState(s).up === 1,
          ),
        ),
    },
  ];
}
