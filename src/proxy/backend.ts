/**
 * One pipelined connection to a backend server (twemproxy's server conn, nc_server.c). Requests
 * from every client are appended to one OutBuffer and written once per event-loop turn; replies
 * are framed by the driver and matched to the oldest request in flight (FIFO: memcached and
 * Redis answer in order), and the clients' replies completed by one read are written at the
 * end of it (flush.ts). The FIFO is bounded; a full one refuses new requests. Plain TCP reads
 * go into our own slab (read-slab.ts), bypassing the Readable stream.
 *
 * Timeouts: one timer per connection, armed for the oldest request's deadline (its send time plus
 * the pool's timeout: always the earliest, all requests having the same timeout). On expiry the
 * whole connection fails: the stuck reply would otherwise be matched to a later request.
 */
import net from "node:net";
import tls from "node:tls";
import { elapsedMs, monoMicros } from "../util/micros.js";
import { OutBuffer } from "../util/out-buffer.js";
import { type SocketWriter, socketWriter } from "../util/socket-writes.js";
import type { HandshakeStep, ReplyFramer } from "./driver.js";
import { Fifo } from "./fifo.js";
import { type Flushable, flushReplies, scheduleFlush } from "./flush.js";
import { ReadSlab } from "./read-slab.js";
import type { Request } from "./request.js";
import type { BackendServer } from "./server.js";

const EMPTY = Buffer.alloc(0);

/** How long a connection of a server removed by a reload may take to answer what is in flight. */
const RETIRE_GRACE_MS = 5000;

export class BackendConn implements Flushable {
  flushQueued = false;
  readonly inflight = new Fifo<Request>();
  readonly out = new OutBuffer();
  private socket: net.Socket | undefined;
  private connected = false;
  /** Set on connect: direct handle writes where possible (src/util/socket-writes.ts). */
  private writer: SocketWriter | undefined;
  private framer: ReplyFramer;
  private timer: NodeJS.Timeout | undefined;
  /** Set once failed or closed: this object is dropped by the server afterwards. */
  dead = false;
  /** Set when a reload removed this server: the reason to close with once idle. */
  private retiring: string | undefined;
  /** The handshake steps sent on this connection, whose replies have not come yet (in order). */
  private handshake: HandshakeStep[] = [];

  constructor(readonly server: BackendServer) {
    this.framer = server.pool.driver.newReplyFramer();
  }

  get inflightCount(): number {
    return this.inflight.length;
  }

  /** Queues [start, end) of buf (plus nothing else) as the request `req`. */
  send(req: Request, buf: Buffer, start: number, end: number, keepForRetry: boolean): void {
    if (this.socket === undefined) this.open();
    const out = this.out;
    const n = end - start;
    out.ensure(n);
    const at = out.pos;
    out.bytes(buf, start, end);
    // OutBuffer never overwrites bytes it has written (bump allocation), so this view stays
    // valid after the write and lets the request be re-sent elsewhere without another copy.
    if (keepForRetry) req.retryBuf = out.buf.subarray(at, at + n);
    req.bytes = n;
    req.sentUs = monoMicros();
    const timeout = this.server.pool.timeoutMs;
    if (timeout > 0 && this.timer === undefined) this.arm(timeout);
    this.inflight.push(req);
    const c = this.server.counters;
    c.requests++;
    c.request_bytes += n;
    if (this.connected) scheduleFlush(this);
  }

  flush(): void {
    const w = this.writer;
    // While a write is pending, requests collect in `out` (bounded by the in-flight FIFO) and
    // leave together when it completes.
    if (!this.connected || w === undefined || w.busy) return;
    const data = this.out.take();
    if (data !== null) w.write(data);
  }

  /** Connects (once); requests queued meanwhile are written on connect. */
  open(): void {
    if (this.socket !== undefined) return;
    const s = this.server;
    const ep = s.endpoint;
    const tlsOpts = s.pool.serverTls;
    let sock: net.Socket;
    if (tlsOpts !== undefined && ep.kind === "tcp") {
      sock = tls.connect({ ...tlsOpts, host: ep.host, port: ep.port });
      sock.once("secureConnect", () => this.onConnect());
      sock.on("data", (chunk: Buffer) => this.onData(chunk));
    } else {
      const slab = new ReadSlab();
      // 'end', 'error' and 'close' are emitted as usual; only the data bypasses the stream.
      const onread = {
        buffer: () => slab.region(),
        callback: (n: number) => {
          this.onData(slab.claim(n));
          return true;
        },
      };
      sock =
        ep.kind === "tcp"
          ? net.connect({ host: ep.host, port: ep.port, onread })
          : net.connect({ path: ep.path, onread });
      sock.once("connect", () => this.onConnect());
    }
    this.socket = sock;
    sock.setNoDelay(true);
    if (s.pool.config.tcpkeepalive) sock.setKeepAlive(true);
    sock.on("error", (err: NodeJS.ErrnoException) => {
      s.counters.server_err++;
      this.fail(describe(err));
    });
    sock.on("end", () => {
      s.counters.server_eof++;
      this.fail("closed the connection");
    });
    sock.on("close", () => this.fail("closed the connection"));
    // Handshake requests (AUTH, SELECT) go first, ahead of anything queued.
    this.handshake = s.pool.handshake.slice();
    for (const h of this.handshake) s.sendInternal(this, h.request, h.expect);
  }

  private onConnect(): void {
    if (this.dead) return;
    this.connected = true;
    this.server.counters.server_connections++;
    if (this.socket !== undefined) this.writer = socketWriter(this.socket, () => this.flush());
    this.flush();
  }

  private onData(chunk: Buffer): void {
    this.frame(chunk);
    // The replies this read completed leave now, one write per client (flush.ts).
    flushReplies();
  }

  private frame(chunk: Buffer): void {
    const framer = this.framer;
    const c = this.server.counters;
    framer.feed(chunk);
    c.response_bytes += chunk.length;
    // One clock reading for every reply of this read.
    const now = monoMicros();
    for (;;) {
      const req = this.inflight.peek();
      if (req === undefined) {
        if (chunk.length > 0 && !this.dead) this.fail("sent bytes nobody asked for");
        return;
      }
      if (!framer.next(req.expect)) {
        if (framer.broken) this.fail("broke the protocol");
        return;
      }
      this.inflight.shift();
      c.responses++;
      this.server.latency.observe(elapsedMs(req.sentUs, now));
      if (req.slot === null && !this.handshakeOk(framer)) return;
      this.server.onReply();
      this.server.pool.settle(req, framer);
      if (this.dead) return;
      if (this.retiring !== undefined && this.inflight.length === 0) {
        this.close(this.retiring);
        return;
      }
      chunk = EMPTY;
    }
  }

  /** Judges a handshake reply (HandshakeStep.check); a refused one fails the connection. */
  private handshakeOk(framer: ReplyFramer): boolean {
    const step = this.handshake.shift();
    const why = step?.check?.(framer.buf.subarray(framer.start, framer.end));
    if (why === undefined) return true;
    this.fail(`rejected the connection handshake: ${why}`);
    return false;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.onTimer(), ms);
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.dead) return;
    const head = this.inflight.peek();
    if (head === undefined) return;
    // Every request of a pool has the same timeout, so the oldest one's deadline is the nearest.
    const left = this.server.pool.timeoutMs - elapsedMs(head.sentUs);
    if (left > 0) {
      this.arm(left);
      return;
    }
    this.server.counters.server_timedout++;
    this.fail(`timed out after ${this.server.pool.timeoutMs} ms`);
  }

  /** Fails every request in flight, closes the socket and reports one server failure. */
  fail(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.connected) this.server.counters.server_connections--;
    this.connected = false;
    this.socket?.destroy();
    this.server.connFailed(this, reason, this.inflight.drain());
  }

  /**
   * A reload removed this server. The new routing table no longer sends requests here, so the
   * connection finishes what is in flight and then closes: a reload never fails a request that
   * was already on its way. A backend that does not answer within RETIRE_GRACE_MS is closed anyway.
   */
  retire(reason: string): void {
    if (this.dead || this.retiring !== undefined) return;
    this.retiring = reason;
    if (this.inflight.length === 0) {
      this.close(reason);
      return;
    }
    setTimeout(() => this.close(reason), RETIRE_GRACE_MS).unref();
  }

  /** Closes without counting a failure (pool stop, reload). In-flight requests fail. */
  close(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.connected) this.server.counters.server_connections--;
    this.connected = false;
    this.socket?.destroy();
    const reqs = this.inflight.drain();
    for (const r of reqs) this.server.pool.failRequest(r, this.server, reason, false);
  }
}

function describe(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "refused the connection";
    case "ECONNRESET":
      return "reset the connection";
    case "ETIMEDOUT":
      return "connect timed out";
    default:
      return err.code ? `failed: ${err.code}` : `failed: ${err.message}`;
  }
}
