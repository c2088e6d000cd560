/**
 * One client connection of a proxy pool: bytes in → driver ClientParser → Plans → DataPlane.route();
 * replies leave in request order through the slot FIFO, one write per backend read batch (flush.ts).
 *
 * Limits: a client with too many requests outstanding stops being read
 * until replies drain (bounded slots); a client whose unread output passes `outputLimit` is
 * disconnected and counted, so one client that stops reading cannot grow proxy memory.
 */
import type net from "node:net";
import type { BackendError } from "../errors.js";
import type { ProxyPoolCounters } from "../metrics/table.js";
import { OutBuffer } from "../util/out-buffer.js";
import { type SocketWriter, socketWriter } from "../util/socket-writes.js";
import { adoptReads } from "./client-read.js";
import type { Dedicated, LeaseHolder } from "./dedicated.js";
import {
  type ClientParser,
  type ClientState,
  type CommandPolicy,
  type DriverLimits,
  ParseResult,
  type Plan,
  type ProtocolDriver,
} from "./driver.js";
import { Fifo } from "./fifo.js";
import { type Flushable, scheduleReply } from "./flush.js";
import { CLIENT_SLAB } from "./read-slab.js";
import { Slot } from "./request.js";
import type { RoutingTable } from "./router.js";

/** Outstanding requests per client before reading pauses. */
const MAX_SLOTS = 4096;

/**
 * Bytes of a streamed reply buffered for a client whose socket is behind before the backend
 * connection waits for it (ReplyFramer.streamable).
 */
const REPLY_BUFFER = 4 * 1024 * 1024;

let nextId = 0;

/** Where a client's parsed requests go: the pool's data plane (dispatch.ts DataPlane). */
export interface RequestRouter {
  route(client: ClientConn, slot: Slot, plan: Plan): void;
}

/**
 * What a client connection needs of its pool (pool.ts ProxyPool), declared here so the client
 * depends on this contract, not on the pool that accepts it.
 */
export interface ClientPool {
  /** The pool's data plane (dispatch.ts), which routes the client's requests. */
  readonly plane: RequestRouter;
  readonly config: { readonly password?: string | undefined; readonly tcpkeepalive: boolean };
  /** The current routing table (the drivers' same-shard checks and an upload's server). */
  readonly table: RoutingTable;
  /** The pool's entries: the drivers' broadcasts count them. */
  readonly servers: { readonly length: number };
  readonly driver: ProtocolDriver;
  readonly maxRequestBytes: number;
  readonly commandPolicy: CommandPolicy | undefined;
  readonly counters: ProxyPoolCounters;
  /** Bytes of unread output past which a client is disconnected. */
  readonly outputLimit: number;
  clientClosed(c: ClientConn): void;
}

function resumeParse(c: ClientConn): void {
  c.resumeParse();
}

/**
 * A client's ClientState. A class, not an object literal: the driver reads these fields on
 * every request, and literals with accessors would each get a map of their own (their getter
 * closures differ per client), making those reads megamorphic across clients.
 */
class ConnState implements ClientState {
  authenticated: boolean;
  password: string | undefined;
  resp3 = false;
  pinned = -1;
  dedicated = -1;
  streaming = false;

  constructor(private readonly client: ClientConn) {
    this.password = client.pool.config.password;
    this.authenticated = false;
  }

  /** Read through `pool` on every call: a reload or ejection swaps the table underneath. */
  shardOf(buf: Buffer, start: number, end: number): number {
    const t = this.client.pool.table;
    return (t.group ?? t.picker).pick(buf, start, end);
  }

  get servers(): number {
    return this.client.pool.servers.length;
  }

  dropDedicated(): void {
    this.client.dropLease();
  }
}

/** The driver's limits of a client (a class for the same reason as ConnState). */
class ConnLimits implements DriverLimits {
  readonly maxRequestBytes: number;
  constructor(private readonly client: ClientConn) {
    this.maxRequestBytes = client.pool.maxRequestBytes;
  }
  /** Through `pool`: a reload applies the new policy to connected clients too. */
  get commandPolicy(): CommandPolicy | undefined {
    return this.client.pool.commandPolicy;
  }
}

export class ClientConn implements LeaseHolder, Flushable {
  flushQueued = false;
  readonly id = nextId++;
  readonly out = new OutBuffer();
  readonly state: ClientState;
  private readonly slots = new Fifo<Slot>();
  private readonly parser: ClientParser;
  closed = false;
  /** End the socket once everything before is written (quit). */
  private ending = false;
  private readingPaused = false;
  /** A large request's next slice is to be parsed in the check phase (parseLater). */
  private parseDue = false;
  /** The client half-closed (EOF); `ending` follows once its last request was parsed. */
  private eof = false;
  private waitingDrain = false;
  private readonly writer: SocketWriter;
  /** The dedicated backend connection this client holds (dedicated.ts), null when none. */
  lease: Dedicated | null = null;
  /** Its lease is a stream (subscriber mode, MONITOR): requests are written to it unanswered. */
  streaming = false;
  /** The connection a request being uploaded in pieces goes to (Conn.Upload); null: dropped. */
  private upload: Dedicated["conn"] | null = null;
  /** Reads wait for the upload's connection to take what it buffered. */
  private uploadWait = false;
  /** Parsing waits for every slot to complete (a plan's barrier). */
  private barrier = false;
  /** A backend connection waiting for this client to take a streamed reply (piece()). */
  private reader: (() => void) | null = null;

  /** The pool's data plane (dispatch.ts), which routes this client's requests. */
  private readonly plane: RequestRouter;

  constructor(
    readonly socket: net.Socket,
    /** The pool whose routing serves this client; swapped by a reload that keeps the listener. */
    public pool: ClientPool,
  ) {
    this.plane = pool.plane;
    this.state = new ConnState(this);
    this.parser = pool.driver.newClientParser(new ConnLimits(this), this.state);
    socket.setNoDelay(true);
    if (pool.config.tcpkeepalive) socket.setKeepAlive(true);
    // Reads go into our own slab (client-read.ts); 'data' events where that is not possible.
    if (!adoptReads(socket, CLIENT_SLAB, (chunk) => this.onData(chunk)))
      socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.writer = socketWriter(socket, () => {
      this.waitingDrain = false;
      // Replies that arrived while the write was pending wait in `out`.
      this.flush();
      this.maybeResume();
      if (this.reader !== null) this.caughtUp();
    });
    // A client that half-closes after its requests (`printf 'stats\r\n' | nc`) still gets
    // its replies, as from twemproxy; the socket is ended once the last one is written.
    socket.on("end", () => {
      this.pool.counters.client_eof++;
      this.eof = true;
      // A large request being planned a slice per turn (parseLater) is planned to its end
      // first: its client sent all of it.
      if (this.parser.more !== true) this.endInput();
    });
    socket.on("error", () => {
      this.pool.counters.client_err++;
      this.destroy();
    });
    socket.on("close", () => this.destroy());
    // The listener accepts paused (pauseOnConnect) so that reads can be adopted first.
    socket.resume();
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.ending) return;
    this.parser.feed(chunk);
    this.parse();
  }

  private parse(): void {
    const parser = this.parser;
    while (!this.closed && !this.ending) {
      if (this.slots.length >= MAX_SLOTS) {
        this.pauseReading();
        break;
      }
      const r = parser.next();
      if (r === ParseResult.NeedMore) break;
      if (r === ParseResult.Piece) {
        if (!this.uploadPiece()) break;
        continue;
      }
      if (r === ParseResult.Error) {
        const slot = new Slot(this);
        slot.close = parser.close;
        this.slots.push(slot);
        this.complete(slot, parser.errorReply ?? null);
        if (parser.close) break;
        continue;
      }
      if (r === ParseResult.Upload) {
        this.startUpload();
        continue;
      }
      const plan = parser.plan;
      if (plan === undefined) continue;
      if (this.streaming) {
        this.toStream(plan);
        continue;
      }
      const slot = new Slot(this);
      this.slots.push(slot);
      this.plane.route(this, slot, plan);
      if (plan.kind === "local" && plan.barrier === true && this.slots.length > 0) {
        // The next requests go on another backend channel: not before these replies
        // (driver.ts barrier). afterHead resumes once the slots are empty.
        this.barrier = true;
        this.pauseReading();
        break;
      }
      // One slice of a large request per turn (driver.ts ClientParser.more): its next slice,
      // and whatever the client sent after it, wait for the check phase, after the poll phase
      // has served the other clients.
      if (plan.kind === "split" && parser.more === true) {
        this.parseLater();
        break;
      }
    }
    if (this.out.pending > 0) scheduleReply(this);
    if (this.eof && !this.ending && parser.more !== true) this.endInput();
  }

  /** The client sent everything it will (EOF) and all of it was parsed. */
  private endInput(): void {
    this.ending = true;
    // Redis closes a client at EOF (networking.c readQueryFromClient): a BLPOP or a
    // subscription of a client that went has nobody to answer; its connection goes.
    this.lease?.drop("client closed its connection");
    if (this.slots.length === 0) scheduleReply(this);
  }

  private parseLater(): void {
    if (this.parseDue) return;
    this.parseDue = true;
    setImmediate(resumeParse, this);
  }

  /** The next slice of a large request (parseLater); not while reading is paused (backpressure). */
  resumeParse(): void {
    this.parseDue = false;
    if (!this.readingPaused) this.parse();
  }

  /**
   * A request whose large last argument is still arriving (ParseResult.Upload) streams to
   * its server on a dedicated connection when it is the client's only request in flight (so
   * the server sees the client's requests in order) and no lease to another server is held;
   * otherwise it is declined and arrives whole first, as any request.
   */
  private startUpload(): void {
    const plan = this.parser.plan;
    if (plan?.kind !== "forward" || this.slots.length > 0 || this.streaming) return;
    const idx = this.pool.table.picker.pick(plan.buf, plan.keyStart, plan.keyEnd);
    if (idx < 0 || (this.lease !== null && this.lease.index !== idx)) return;
    this.parser.acceptStream?.();
    const slot = new Slot(this);
    this.slots.push(slot);
    this.plane.route(this, slot, plan);
    // Refused (no dedicated connection left, no server): the client has its error and the
    // rest of the request is dropped as it comes.
    const d = this.lease;
    this.upload = !slot.done && d !== null && d.index === idx ? d.conn : null;
  }

  /** A piece of the upload; false when reads must wait for its connection. */
  private uploadPiece(): boolean {
    const p = this.parser;
    const c = this.upload;
    const last = p.pieceLast === true;
    if (last) this.upload = null;
    if (c === null || c.dead) return true;
    if (c.sendMore(p.pieceBuf as Buffer, p.pieceStart ?? 0, p.pieceEnd ?? 0, last, this.uploaded))
      return true;
    this.uploadWait = true;
    this.pauseReading();
    return false;
  }

  private readonly uploaded = (): void => {
    this.uploadWait = false;
    this.maybeResume();
  };

  atHead(slot: Slot): boolean {
    return !this.closed && this.slots.peek() === slot;
  }

  /**
   * A piece of the head slot's reply (a large value): out now, bounded by outputLimit. False
   * when the socket is behind by REPLY_BUFFER: `resume` once it caught up.
   */
  piece(slot: Slot, buf: Buffer, start: number, end: number, resume: () => void): boolean {
    if (this.closed) return true;
    slot.streamed = true;
    this.out.bytes(buf, start, end);
    if (this.out.pending > this.pool.outputLimit) {
      this.overflow();
      return true;
    }
    scheduleReply(this);
    if (this.out.pending + this.writer.queued < REPLY_BUFFER) return true;
    this.reader = resume;
    return false;
  }

  /** The socket caught up: a backend connection waiting for it reads again. */
  private caughtUp(): void {
    const r = this.reader;
    if (r === null) return;
    if (!this.closed && this.out.pending + this.writer.queued >= REPLY_BUFFER) return;
    this.reader = null;
    r();
  }

  deliver(slot: Slot, buf: Buffer, start: number, end: number): void {
    if (this.closed) return;
    if (this.slots.peek() === slot) {
      this.out.bytes(buf, start, end);
      this.slots.shift();
      this.afterHead(slot);
      return;
    }
    slot.reply = Buffer.allocUnsafe(end - start);
    buf.copy(slot.reply, 0, start, end);
    slot.done = true;
  }

  complete(slot: Slot, reply: Buffer | null): void {
    if (this.closed) return;
    if (slot.streamed) {
      // Part of its reply went out: an error now would be read as the rest of it.
      this.destroy();
      return;
    }
    slot.reply = reply;
    slot.done = true;
    if (this.slots.peek() !== slot) return;
    this.slots.shift();
    this.writeSlot(slot);
    this.afterHead(slot);
  }

  get channel(): number {
    return this.parser.channel ?? 0;
  }

  failReply(slot: Slot, err: BackendError): Buffer {
    return this.parser.failReply(slot.tag, slot.silent, err.message);
  }

  private writeSlot(slot: Slot): void {
    if (slot.merger !== null) slot.merger.write(this.out);
    else if (slot.reply !== null && slot.reply.length > 0) {
      this.out.bytes(slot.reply, 0, slot.reply.length);
    }
  }

  /** The head slot was written: write every completed slot behind it, then schedule a flush. */
  private afterHead(head: Slot): void {
    let last = head;
    for (let s = this.slots.peek(); s?.done; s = this.slots.peek()) {
      if (last.close) break;
      this.slots.shift();
      this.writeSlot(s);
      last = s;
    }
    if (last.close) {
      this.ending = true;
      this.slots.drain();
    }
    if (this.streaming) this.streamAtHead();
    if (this.out.pending > this.pool.outputLimit) {
      this.overflow();
      return;
    }
    scheduleReply(this);
    if (this.barrier && this.slots.length === 0) this.barrier = false;
    if (this.readingPaused && this.slots.length < MAX_SLOTS / 2) this.maybeResume();
  }

  flush(): void {
    if (this.closed) return;
    // A pending write: the bytes stay in `out` (bounded by outputLimit in afterHead) until
    // the writer's onDrain flushes again.
    if (this.writer.busy) return;
    const data = this.out.take();
    if (data !== null) {
      if (!this.writer.write(data)) {
        this.waitingDrain = true;
        this.pauseReading();
      }
      if (this.writer.queued > this.pool.outputLimit) {
        this.overflow();
        return;
      }
    }
    if (this.ending && this.slots.length === 0 && this.out.pending === 0) {
      this.socket.end();
      this.closed = true;
      this.pool.clientClosed(this);
    }
  }

  private overflow(): void {
    this.pool.counters.output_overflow_closes++;
    this.destroy();
  }

  private pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (!this.readingPaused || this.waitingDrain || this.uploadWait || this.barrier || this.closed)
      return;
    if (this.slots.length >= MAX_SLOTS / 2) return;
    this.readingPaused = false;
    this.socket.resume();
    // Requests already buffered in the parser are not re-announced by a 'data' event.
    this.parse();
  }

  // ---- a stream (dedicated.ts Conn.Stream) ----

  setLease(d: Dedicated | null): void {
    this.lease = d;
    this.state.dedicated = d === null ? -1 : d.index;
  }

  setStreaming(on: boolean): void {
    this.streaming = on;
    this.state.streaming = on;
  }

  /** A request after the client's lease became a stream: written to it, or answered here. */
  private toStream(plan: Plan): void {
    const d = this.lease;
    if (d === null) return; // lost: streamLost is closing this client
    if (plan.kind === "forward") {
      const b = plan.rewrite;
      if (b !== undefined) d.conn.sendUnanswered(b, 0, b.length);
      else d.conn.sendUnanswered(plan.buf, plan.frameStart, plan.frameEnd);
      return;
    }
    const reply =
      plan.kind === "local"
        ? plan.reply
        : this.parser.failReply(0, false, "keepcache: not served on a subscribed connection");
    this.stream(d, reply, 0, reply.length);
    if (plan.kind === "local" && plan.close) this.streamEnd(d, null);
  }

  /** Reply bytes of stream `d`, in order after every reply before the stream began. */
  stream(d: Dedicated, buf: Buffer, start: number, end: number): void {
    if (this.closed) return;
    if (this.slots.peek() === d.slot && d.held.length === 0) {
      this.out.bytes(buf, start, end);
      if (this.out.pending > this.pool.outputLimit) {
        this.overflow();
        return;
      }
      scheduleReply(this);
      return;
    }
    d.held.push(Buffer.from(buf.subarray(start, end)));
    d.heldBytes += end - start;
    if (d.heldBytes > this.pool.outputLimit) this.overflow();
  }

  /** The stream's slot reached the head: what it held goes out now. */
  private streamAtHead(): void {
    const d = this.lease;
    if (d === null || d.held.length === 0 || this.slots.peek() !== d.slot) return;
    for (const b of d.held) this.out.bytes(b, 0, b.length);
    d.held = [];
    d.heldBytes = 0;
    scheduleReply(this);
  }

  /** Ends stream `d`: its slot completes with what it held (and `last`), then the client closes. */
  private streamEnd(d: Dedicated, last: Buffer | null, close = true): void {
    const slot = d.slot;
    this.setStreaming(false);
    d.slot = null;
    if (slot === null) return;
    const parts = last === null ? d.held : [...d.held, last];
    d.held = [];
    d.heldBytes = 0;
    slot.close = close;
    this.complete(slot, Buffer.concat(parts));
  }

  /** Stream `d`'s server connection is gone: the client gets `message` and is closed. */
  streamLost(d: Dedicated, message: string): void {
    this.streamEnd(d, this.parser.failReply(0, false, message));
  }

  /** Closes the held dedicated connection and its server state (the driver's RESET). */
  dropLease(): void {
    const d = this.lease;
    if (d === null) return;
    if (this.streaming) this.streamEnd(d, null, false);
    d.drop("the client reset its connection");
  }

  destroy(): void {
    if (this.closed) {
      this.socket.destroy();
      return;
    }
    this.closed = true;
    this.slots.drain();
    this.socket.destroy();
    this.pool.clientClosed(this);
    this.caughtUp();
  }
}
