/**
 * One pipelined connection to a backend server (twemproxy's server conn, nc_server.c). Requests
 * from every client are appended to one OutBuffer and written once per event-loop turn; replies
 * are framed by the driver and matched to the oldest request in flight (FIFO: memcached and
 * Redis answer in order), and the clients' replies completed by one read are written at the
 * end of it (flush.ts). The FIFO is bounded; a full one refuses new requests. Plain TCP reads
 * go into our own slab (read-slab.ts), bypassing the Readable stream.
 *
 * Timeouts measure the backend, not the proxy: a request fails when the server has said nothing
 * for the pool's `timeout` since the request was handed to its socket (or since the server last
 * sent bytes, a large reply still arriving). Time the request spent in our own buffers before
 * the write, for instance while the event loop served a client's 60,000-key get, does not count.
 * One timer per connection is armed for the oldest request's deadline (all requests having the
 * same timeout, it is the earliest). When it fires late or finds the deadline passed, the
 * verdict waits for this turn's poll phase (setImmediate): a reply that reached the socket while
 * the loop was busy is read there first, and only a server still silent after that look has
 * failed. On expiry the whole connection fails: the stuck reply would otherwise be matched to a
 * later request. twemproxy gets the same order from its loop, which handles every ready event
 * before it expires timeouts (nc_core.c core_loop: event_wait, then core_timeout).
 */
import net from "node:net";
import tls from "node:tls";
import type { Endpoint } from "../config/index.js";
import { BackendError, type BackendErrorCode } from "../errors.js";
import type { Histogram } from "../metrics/histogram.js";
import type { ProxyServerCounters } from "../metrics/table.js";
import { elapsedMs, monoMicros } from "../util/micros.js";
import { OutBuffer } from "../util/out-buffer.js";
import { type SocketWriter, socketWriter } from "../util/socket-writes.js";
import type { HandshakeStep, ProtocolDriver, ReplyFramer } from "./driver.js";
import { Fifo } from "./fifo.js";
import { type Flushable, flushReplies, scheduleFlush } from "./flush.js";
import { ReadSlab } from "./read-slab.js";
import type { ReplySink } from "./reply-sink.js";
import type { Request } from "./request.js";

const EMPTY = Buffer.alloc(0);

/** How long a connection of a server removed by a reload may take to answer what is in flight. */
const RETIRE_GRACE_MS = 5000;

/**
 * Bytes of an upload (sendMore) buffered for the socket before its client's reads are held:
 * about one read of each side, so a large value passes through in a few buffers.
 */
const UPLOAD_BUFFER = 1024 * 1024;

/**
 * Longest a shared connection's reads wait for a slow client to take a streamed reply: the
 * replies of other clients come after it on this connection. Past it the rest is buffered for
 * that client instead, bounded by client_output_limit.
 */
const HOLD_MAX_MS = 1000;

/** What a connection needs of its server's pool (pool.ts ProxyPool). */
export interface ConnPool {
  readonly driver: ProtocolDriver;
  readonly timeoutMs: number;
  readonly serverTls: tls.ConnectionOptions | undefined;
  /** The requests a new connection of a backend channel opens with (pool.ts). */
  handshakeFor(channel: number): readonly HandshakeStep[];
  readonly config: { readonly tcpkeepalive: boolean };
}

/**
 * What a connection needs of the server it belongs to (server.ts BackendServer), declared
 * here so the connection depends on this contract, not on the server that makes it.
 */
export interface ConnServer {
  readonly label: string;
  readonly endpoint: Endpoint;
  readonly counters: ProxyServerCounters;
  readonly latency: Histogram;
  /** Where replies and failed requests go (the pool's data plane). */
  readonly plane: ReplySink;
  readonly pool: ConnPool;
  /** A handshake request on `conn`. */
  sendInternal(conn: BackendConn, request: Buffer, expect: number): void;
  /** A reply came: the server is alive (nc_server.c server_ok). */
  onReply(): void;
  /** `conn` failed: its requests in flight fail with `err`. */
  connFailed(conn: BackendConn, err: BackendError, reqs: Request[]): void;
}

/**
 * Who takes a connection's replies and failures instead of its server: the dedicated connection
 * it belongs to (dedicated.ts Dedicated), declared here so the connection depends on this
 * contract, not on the leasing around it.
 */
export interface ConnOwner {
  /** Subscriber mode or MONITOR: replies nobody asked for are the stream's (Conn.Stream). */
  readonly streaming: boolean;
  /** A reply for `req`, instead of the data plane's settle. */
  framed(req: Request, framer: ReplyFramer): void;
  /** A reply of the stream (expect 0), bytes valid only during the call. */
  streamed(buf: Buffer, start: number, end: number): void;
  /** The connection failed or was closed: `reqs` were in flight. */
  died(err: BackendError, reqs: Request[]): void;
}

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
  /** Requests at the tail of `inflight` whose bytes are still in `out` (not yet written). */
  private unwritten = 0;
  /** monoMicros() of the last read while requests were in flight; -1 when none since. */
  private readUs = -1;
  /** The latest monoMicros() reading taken by this connection (send, flush, a read). */
  private lastUs = monoMicros();
  /** The timer found the deadline passed; the verdict waits for this turn's poll phase. */
  private judging = false;
  /** Set once failed or closed: this object is dropped by the server afterwards. */
  dead = false;
  /** Set when a reload removed this server: the reason to close with once idle. */
  private retiring: string | undefined;
  /** Set for a dedicated connection (dedicated.ts): it settles replies and handles failures. */
  owner: ConnOwner | undefined = undefined;
  /** The handshake steps sent on this connection, whose replies have not come yet (in order). */
  private handshake: HandshakeStep[] = [];
  /** An upload's client waiting for the socket to take what is buffered (sendMore). */
  private writable: (() => void) | undefined = undefined;
  /** Reads wait for a client to take a streamed reply (pieces()); no timeout meanwhile. */
  private holding = false;
  /** The streamed reply in progress held reads as long as it may (HOLD_MAX_MS). */
  private holdSpent = false;
  private holdTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly server: ConnServer,
    /** The backend channel it serves (ClientParser.channel): picks its handshake. */
    readonly channel = 0,
    /** A shared pipelined connection (never a stream): see ProtocolDriver.newReplyFramer. */
    shared = true,
  ) {
    this.framer = server.pool.driver.newReplyFramer(shared);
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
    // flush() stamps it when its bytes are handed to the socket. Until then only a request
    // that can be read as the head before that flush needs a clock reading of its own: the
    // first in flight, or one queued while the socket is not taking writes (not connected, a
    // write pending; its deadline then runs from here, a connect that hangs times out). One
    // queued behind others on a writable socket is flushed in this turn's check phase; should
    // the requests ahead of it be answered first, it is the head with the connection's last
    // reading (never later than now: its deadline is only earlier) and a fresh `readUs`.
    const q = this.inflight;
    const w = this.writer;
    req.sentUs =
      q.length === 0 || !this.connected || w === undefined || w.busy
        ? (this.lastUs = monoMicros())
        : this.lastUs;
    const timeout = this.server.pool.timeoutMs;
    if (timeout > 0 && this.timer === undefined && !this.judging && !req.blocking)
      this.arm(timeout);
    this.inflight.push(req);
    this.unwritten++;
    const c = this.server.counters;
    c.requests++;
    c.request_bytes += n;
    if (this.connected) scheduleFlush(this);
  }

  /**
   * Queues bytes no reply is matched to: a streaming dedicated connection's requests, whose
   * replies go to its client as they come (dedicated.ts).
   */
  sendUnanswered(buf: Buffer, start: number, end: number): void {
    if (this.socket === undefined) this.open();
    this.out.bytes(buf, start, end);
    const c = this.server.counters;
    c.requests++;
    c.request_bytes += end - start;
    if (this.connected) scheduleFlush(this);
  }

  /**
   * More bytes of the request at the tail of the FIFO, which its client is still sending (a
   * large value streaming through on a dedicated connection, driver.ts Conn.Upload); `last`
   * ends it. False when the socket is behind: the client stops reading until `onWritable`.
   */
  sendMore(
    buf: Buffer,
    start: number,
    end: number,
    last: boolean,
    onWritable: () => void,
  ): boolean {
    if (this.dead) return true;
    this.out.bytes(buf, start, end);
    this.server.counters.request_bytes += end - start;
    const q = this.inflight;
    if (q.length > 0) {
      // Its deadline runs from its last byte written (flush() restamps the unwritten tail);
      // until then the server waits for the client, so no timeout applies.
      this.unwritten = Math.max(this.unwritten, 1);
      if (last) {
        q.at(q.length - 1).blocking = false;
        if (this.timer === undefined) this.armHead();
      }
    }
    if (this.connected) scheduleFlush(this);
    if (this.out.pending < UPLOAD_BUFFER) return true;
    this.writable = onWritable;
    return false;
  }

  flush(): void {
    const w = this.writer;
    // While a write is pending, requests collect in `out` (bounded by the in-flight FIFO) and
    // leave together when it completes.
    if (!this.connected || w === undefined || w.busy) return;
    const data = this.out.take();
    if (data !== null) {
      w.write(data);
      // The requests of this batch are on their way: their deadlines start now.
      const q = this.inflight;
      const now = monoMicros();
      this.lastUs = now;
      for (let i = q.length - this.unwritten; i < q.length; i++) q.at(i).sentUs = now;
      this.unwritten = 0;
    }
    if (this.writable !== undefined && !w.busy) this.wake();
  }

  /** The socket took every buffered byte (or the connection is gone): the upload goes on. */
  private wake(): void {
    const f = this.writable;
    this.writable = undefined;
    f?.();
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
      this.fail(
        err.code === "ETIMEDOUT" ? "KC_BACKEND_TIMEOUT" : "KC_BACKEND_CLOSED",
        describe(err),
        err,
      );
    });
    sock.on("end", () => {
      s.counters.server_eof++;
      this.fail("KC_BACKEND_CLOSED", "closed the connection");
    });
    sock.on("close", () => this.fail("KC_BACKEND_CLOSED", "closed the connection"));
    // Handshake requests (AUTH, SELECT, the channel's HELLO 3) go first, ahead of anything queued.
    this.handshake = s.pool.handshakeFor(this.channel).slice();
    for (const h of this.handshake) s.sendInternal(this, h.request, h.expect);
  }

  private onConnect(): void {
    if (this.dead) return;
    this.connected = true;
    this.server.counters.server_connections++;
    if (this.socket !== undefined) this.writer = socketWriter(this.socket, this.drained);
    this.flush();
  }

  /**
   * A write the kernel did not take at once has completed: the server read those bytes, a
   * sign of life as good as a reply's first bytes (a large request's deadline runs from here).
   */
  private readonly drained = (): void => {
    if (this.inflight.length > 0) this.readUs = monoMicros();
    this.flush();
  };

  private onData(chunk: Buffer): void {
    this.frame(chunk);
    const f = this.framer;
    if (f.skipped !== undefined && f.skipped > 0) {
      this.server.counters.unsolicited_skipped += f.skipped;
      f.skipped = 0;
    }
    // The replies this read completed leave now, one write per client (flush.ts).
    flushReplies();
  }

  private frame(chunk: Buffer): void {
    const framer = this.framer;
    const c = this.server.counters;
    framer.feed(chunk);
    c.response_bytes += chunk.length;
    // One clock reading for every reply of this read; also the server's latest sign of life.
    const now = monoMicros();
    this.readUs = now;
    this.lastUs = now;
    for (;;) {
      const req = this.inflight.peek();
      if (req === undefined) {
        this.readUs = -1;
        if (this.owner?.streaming) {
          // A stream's replies (subscriber mode, MONITOR), framed one at a time: expect 0.
          while (!this.dead && framer.next(0)) {
            c.responses++;
            this.owner.streamed(framer.buf, framer.start, framer.end);
          }
          if (framer.broken) this.fail("KC_BACKEND_PROTOCOL", "broke the protocol");
          return;
        }
        if (this.dead) return;
        const clean = framer.skipUnsolicited?.() ?? chunk.length === 0;
        if (!clean) {
          if (framer.broken) this.fail("KC_BACKEND_PROTOCOL", "broke the protocol");
          else this.fail("KC_BACKEND_PROTOCOL", "sent bytes nobody asked for");
        }
        return;
      }
      if (!framer.next(req.expect)) {
        if (framer.broken) this.fail("KC_BACKEND_PROTOCOL", "broke the protocol");
        else if (framer.streamable === true) this.pieces(req, framer);
        return;
      }
      this.inflight.shift();
      c.responses++;
      this.server.latency.observe(elapsedMs(req.sentUs, now));
      if (req.slot === null && !this.handshakeOk(framer)) return;
      this.server.onReply();
      if (this.owner === undefined) this.server.plane.settle(req, framer);
      else {
        this.owner.framed(req, framer);
        // The timer skips a blocking request at the head (onTimer), so the request behind one
        // (only dedicated connections carry them) needs its own.
        if (!this.dead && this.timer === undefined) this.armHead();
      }
      if (this.dead) return;
      if (this.retiring !== undefined && this.inflight.length === 0) {
        this.close(this.retiring);
        return;
      }
      chunk = EMPTY;
    }
  }

  /**
   * A large reply in progress goes to its client in pieces as it arrives, when its slot is at
   * the head of the client's replies (else it is held whole, as any reply that must wait).
   * Once a piece went out the request is never retried: a failure now closes the client.
   */
  private pieces(req: Request, framer: ReplyFramer): void {
    const slot = req.slot;
    if (slot === null || req.part >= 0) return;
    if (!slot.streamed) {
      if (slot.owner.atHead?.(slot) !== true) return;
      slot.streamed = true;
      req.retried = true;
      this.holdSpent = false;
    }
    let behind = false;
    while (framer.piece?.()) {
      if (slot.owner.piece?.(slot, framer.buf, framer.start, framer.end, this.unhold) === false)
        behind = true;
    }
    // Explicit backpressure: the client's socket is behind, so this one waits for it.
    if (behind && !this.holdSpent) this.hold();
  }

  private hold(): void {
    if (this.holding || this.socket === undefined) return;
    this.holding = true;
    this.socket.pause();
    // A dedicated connection serves only this client; a shared one, others too.
    if (this.owner === undefined) {
      this.holdTimer = setTimeout(() => {
        this.holdSpent = true;
        this.unhold();
      }, HOLD_MAX_MS);
    }
  }

  private readonly unhold = (): void => {
    if (!this.holding) return;
    this.holding = false;
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    if (this.dead) return;
    if (this.inflight.length > 0) this.readUs = monoMicros();
    this.socket?.resume();
    if (this.timer === undefined) this.armHead();
  };

  private armHead(): void {
    if (this.server.pool.timeoutMs <= 0 || this.judging) return;
    const left = this.timeLeft();
    if (!Number.isNaN(left)) this.arm(Math.max(1, left));
  }

  /** Judges a handshake reply (HandshakeStep.check); a refused one fails the connection. */
  private handshakeOk(framer: ReplyFramer): boolean {
    const step = this.handshake.shift();
    const why = step?.check?.(framer.buf.subarray(framer.start, framer.end));
    if (why === undefined) return true;
    this.fail("KC_BACKEND_PROTOCOL", `rejected the connection handshake: ${why}`);
    return false;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.onTimer(), ms);
  }

  /**
   * Ms left before the oldest request times out (<= 0: expired), or NaN with none in flight or
   * a blocking one at the head (BLPOP q 30 on a dedicated connection waits as long as it asked).
   */
  private timeLeft(): number {
    const head = this.inflight.peek();
    if (head === undefined || head.blocking || this.holding) return Number.NaN;
    // Every request of a pool has the same timeout, so the oldest one's deadline is the nearest.
    const now = monoMicros();
    let silent = elapsedMs(head.sentUs, now);
    if (this.readUs >= 0) silent = Math.min(silent, elapsedMs(this.readUs, now));
    return this.server.pool.timeoutMs - silent;
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.dead) return;
    const left = this.timeLeft();
    if (left > 0) this.arm(left);
    else if (left <= 0) {
      // Expired by the clock: look at the socket once more (this turn's poll phase) first.
      this.judging = true;
      setImmediate(this.verdict);
    }
  }

  private readonly verdict = (): void => {
    this.judging = false;
    if (this.dead) return;
    const left = this.timeLeft();
    if (left > 0) {
      this.arm(left);
      return;
    }
    if (Number.isNaN(left)) return;
    this.server.counters.server_timedout++;
    this.fail("KC_BACKEND_TIMEOUT", `timed out after ${this.server.pool.timeoutMs} ms`);
  };

  /**
   * Fails every request in flight with a BackendError (`code`, `reason`, the socket's error as
   * its `cause`), closes the socket and reports one server failure.
   */
  fail(code: BackendErrorCode, reason: string, cause?: Error): void {
    if (!this.shut()) return;
    const err = new BackendError(
      code,
      this.server.label,
      reason,
      cause === undefined ? undefined : { cause },
    );
    if (this.owner !== undefined) this.owner.died(err, this.inflight.drain());
    else this.server.connFailed(this, err, this.inflight.drain());
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
    if (!this.shut()) return;
    const reqs = this.inflight.drain();
    const err = new BackendError("KC_BACKEND_CLOSED", this.server.label, reason);
    if (this.owner !== undefined) {
      this.owner.died(err, reqs);
      return;
    }
    for (const r of reqs) this.server.plane.failRequest(r, this.server, err, false);
  }

  /** Marks the connection dead and releases its socket and timers; false if it already was. */
  private shut(): boolean {
    if (this.dead) return false;
    this.dead = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.timer = undefined;
    if (this.connected) this.server.counters.server_connections--;
    this.connected = false;
    this.socket?.destroy();
    this.wake();
    return true;
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
