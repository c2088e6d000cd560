/**
 * The listening socket of a service. The primary binds it; worker processes receive the same
 * socket over IPC and accept from it too, so the kernel hands each new connection to one of
 * the processes (like node:cluster's SCHED_NONE, without the cluster module's global state).
 */
import net from "node:net";
import { listenOn } from "../util/listen.js";
import type { TcpServiceShape } from "./snapshot.js";

export async function bindListener(
  l: TcpServiceShape["listen"],
  backlog: number,
  what: string,
): Promise<net.Server> {
  const server = net.createServer();
  configureAccepted(server);
  const at =
    l.kind === "unix" ? { path: l.path, backlog } : { host: l.host, port: l.port, backlog };
  await listenOn(server, at, what);
  return server;
}

/**
 * How accepted sockets are set up. A server received over IPC is built by Node with default
 * options, and these fields are what net.Server's onconnection reads for every accepted socket
 * (lib/net.js), so the primary and the workers set them the same way here:
 *  - allowHalfOpen, so a client's FIN is forwarded while the server may still answer;
 *  - noDelay on the handle (TCP_NODELAY, no Nagle delay for small replies), as HAProxy does;
 *  - no pauseOnConnect: the client's first bytes are read while the server connection is being
 *    set up (HAProxy buffers the request meanwhile too). They wait in the socket's readable
 *    buffer, bounded by its highWaterMark (Node then stops reading: TCP backpressure), and are
 *    delivered to whichever server finally connects, retries included. That saves one event
 *    loop turn per connection compared with resuming the client after the connect.
 */
export function configureAccepted(server: net.Server): void {
  const s = server as net.Server & {
    allowHalfOpen: boolean;
    pauseOnConnect: boolean;
    noDelay: boolean;
  };
  s.allowHalfOpen = true;
  s.pauseOnConnect = false;
  s.noDelay = true;
}
