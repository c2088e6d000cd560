/**
 * A pool's listener (nc_proxy.c proxy_listen): TCP host:port or a unix socket with an optional
 * mode, `backlog`, and TLS when the pool has `tls:`.
 */
import fs from "node:fs";
import net from "node:net";
import tls from "node:tls";
import type { PoolConfig } from "../config/index.js";
import { listenerTls } from "./tls.js";

export async function openListener(
  cfg: PoolConfig,
  onConnection: (sock: net.Socket) => void,
): Promise<{ server: net.Server; address: net.AddressInfo | string }> {
  // allowHalfOpen: a client's EOF must not end our side before its replies are written.
  const server = cfg.tls
    ? tls.createServer({ ...listenerTls(cfg.tls), allowHalfOpen: true }, onConnection)
    : net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, onConnection);
  const l = cfg.listen;
  if (l.kind === "unix") {
    // A stale socket file from an earlier run would make listen fail (twemproxy unlinks too).
    try {
      fs.unlinkSync(l.path);
    } catch {}
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (l.kind === "tcp") server.listen({ host: l.host, port: l.port, backlog: cfg.backlog }, done);
    else server.listen({ path: l.path, backlog: cfg.backlog }, done);
  });
  if (l.kind === "unix" && l.mode !== undefined) fs.chmodSync(l.path, l.mode);
  return { server, address: server.address() ?? "" };
}
