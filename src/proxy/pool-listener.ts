/**
 * A pool's listener (nc_proxy.c proxy_listen): TCP host:port or a unix socket with an optional
 * mode, `backlog`, and TLS when the pool has `tls:`, whose certificate material a reload can
 * swap without closing the listener (prepareTlsRefresh).
 */
import assert from "node:assert";
import fs from "node:fs";
import net from "node:net";
import tls from "node:tls";
import type { PoolConfig, TlsConfig } from "../config/index.js";
import { listenOn } from "../util/listen.js";
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
  const backlog = cfg.backlog;
  const at = l.kind === "tcp" ? { host: l.host, port: l.port, backlog } : { path: l.path, backlog };
  await listenOn(server, at, `pool ${cfg.name}`);
  if (l.kind === "unix" && l.mode !== undefined) fs.chmodSync(l.path, l.mode);
  return { server, address: server.address() ?? "" };
}

/**
 * A certificate rotation for a TLS listener that a reload keeps (SIGHUP swaps
 * pools without dropping client connections). The files are read now, every time, even when
 * the paths did not change (rotation tools overwrite them in place), and checked by building a
 * secure context, so that bad material fails the reload before anything changed. The returned
 * function swaps it in with tls.Server#setSecureContext: connections already open keep their
 * session; new handshakes get the new certificate. (Requiring client certificates is a server
 * option, not part of the context: proxy.ts restarts the listener when `ca` comes or goes.)
 */
export function prepareTlsRefresh(server: net.Server, cfg: TlsConfig): () => void {
  assert(server instanceof tls.Server, "a pool with tls: listens with a tls.Server");
  const options = listenerTls(cfg);
  tls.createSecureContext(options);
  return () => server.setSecureContext(options);
}
