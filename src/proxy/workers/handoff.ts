/**
 * A pool's listening socket as a worker receives it over IPC. Node rebuilds it as a net.Server
 * and calls listen() on the handle BEFORE the "message" event is emitted
 * (lib/internal/child_process.js handleConversion["net.Server"].got: `server.listen(handle,
 * () => emit(server))`), so from then on the kernel may hand this process connections from
 * the shared accept queue. The worker builds the pool asynchronously (driver import, earlier
 * messages first), and a connection accepted in between would have had no 'connection'
 * listener: held open by this process, never read, never answered (the flaky "restarted pool"
 * e2e test). So the socket is claimed synchronously in the message handler: accepted sockets
 * wait, paused, until the pool adopts them, or are closed if the pool never comes.
 */
import type net from "node:net";

type Listening = net.Server & { allowHalfOpen: boolean; pauseOnConnect: boolean };

export class HeldListener {
  private queued: net.Socket[] = [];
  private readonly hold = (sock: net.Socket) => {
    sock.on("error", () => {});
    this.queued.push(sock);
  };

  /** Call in the "message" handler itself (no await before it). */
  constructor(readonly server: net.Server) {
    // What openListener gives the primary's own server (pool-listener.ts): the fields that
    // net.Server's onconnection reads for each accepted socket (lib/net.js). pauseOnConnect
    // keeps a held socket unread, so client-read.ts can still adopt its reads later.
    const s = server as Listening;
    s.allowHalfOpen = true;
    s.pauseOnConnect = true;
    server.on("connection", this.hold);
    server.on("error", () => {}); // accept errors (EMFILE) are retried by libuv
  }

  /** Hands the listener to `accept`: the held sockets first, in accept order, then new ones. */
  release(accept: (sock: net.Socket) => void): void {
    this.server.off("connection", this.hold);
    const q = this.queued;
    this.queued = [];
    for (const sock of q) if (!sock.destroyed) accept(sock);
    this.server.on("connection", accept);
  }

  /** The pool will not be served here (stale gen, failed build): close it and what it held. */
  discard(): void {
    this.server.off("connection", this.hold);
    for (const sock of this.queued) sock.destroy();
    this.queued = [];
    this.server.close();
  }

  /** Sockets accepted and not yet handed over (tests). */
  get held(): number {
    return this.queued.length;
  }
}
