/**
 * `keepcache node --admin HOST:PORT`: an admin listener showing this one node (dashboard,
 * /metrics, API). The token comes from KEEPCACHE_ADMIN_TOKEN, not a flag, so it does not show
 * in `ps`. Loaded lazily by the CLI so a node without --admin never loads prom-client.
 */
import { type Logger, subLogger } from "../log.js";
import { AdminServer } from "./http.js";
import type { AdminListen } from "./listen.js";
import { attachNode, type NodeLike } from "./node-source.js";

export async function startNodeAdmin(
  listen: AdminListen,
  node: NodeLike,
  log: Logger,
): Promise<AdminServer> {
  const admin = new AdminServer({
    listen,
    token: process.env.KEEPCACHE_ADMIN_TOKEN,
    metricsToken: process.env.KEEPCACHE_METRICS_TOKEN,
    log: subLogger(log, "admin"),
    source: "--admin",
  });
  const a = node.address();
  attachNode(admin, node, { name: `node ${a.port}` });
  admin.ready.register({ name: "node_listening", ok: () => node.listening });
  await admin.listen();
  return admin;
}
