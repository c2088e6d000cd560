/**
 * `keepcache node`'s listener: accepts clients up to the connection limit and gives each a
 * Connection. Everything about commands lives in the sessions; everything about items in the
 * store.
 */
import net from "node:net";
import type { Logger } from "../log.js";
import { listenOn } from "../util/listen.js";
import { Connection } from "./connection.js";
import { NodeContext } from "./context.js";
import type { NodeOptions } from "./options.js";

export class CacheNode {
  readonly ctx: NodeContext;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /**
   * Every client's reads land here (socket-reads.ts); sessions copy out what they keep, so one
   * buffer serves all connections. 64 KiB is the read size libuv asks Node for by default.
   */
  private readonly readBuf = Buffer.allocUnsafeSlow(64 * 1024);

  constructor(
    readonly options: NodeOptions,
    private readonly log: Logger,
  ) {
    this.ctx = new NodeContext(options, log);
    // pauseOnConnect: a Connection chooses how the socket reads before the first read happens.
    this.server = net.createServer({ noDelay: true, pauseOnConnect: true }, (s) => this.accept(s));
    this.server.on("error", (err) => log.error({ err }, "listener error"));
  }

  private accept(socket: net.Socket): void {
    const c = this.ctx.counters;
    if (this.sockets.size >= this.options.connLimit) {
      // memcached answers this way when it hits -c (memcached.c, "Too many open connections").
      c.rejected_connections++;
      socket.end("SERVER_ERROR Too many open connections\r\n");
      socket.on("error", () => socket.destroy());
      socket.resume(); // read (and drop) until the client's EOF, so the socket closes
      return;
    }
    c.total_connections++;
    c.curr_connections++;
    this.sockets.add(socket);
    socket.once("close", () => {
      this.sockets.delete(socket);
      c.curr_connections--;
    });
    new Connection(socket, this.ctx, this.readBuf);
  }

  async listen(): Promise<void> {
    const { port, host } = this.options;
    await listenOn(this.server, { port, host, backlog: 1024 }, "client port");
    this.ctx.start();
  }

  /** True while accepting clients (the admin dashboard shows a closed node as down). */
  get listening(): boolean {
    return this.server.listening;
  }

  /**
   * Starts node-to-node replication, after listen(): its port defaults to the client port + 1
   * (repcached's 11212 next to 11211), or any free port when the client port was 0.
   * Returns the replication port, or undefined when the node does not replicate.
   */
  async startReplication(): Promise<number | undefined> {
    const repl = this.ctx.repl;
    if (repl === undefined) return undefined;
    return repl.listen(this.options.host);
  }

  address(): { host: string; port: number } {
    const a = this.server.address();
    if (a && typeof a === "object") return { host: a.address, port: a.port };
    return { host: this.options.host, port: this.options.port };
  }

  /** Stops accepting, closes every client, and stops the clock. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    await this.ctx.repl?.close();
    this.ctx.stop();
    this.log.debug("node closed");
  }
}
