/**
 * One request in flight to one backend, and the client-side reply slot it fills. Both are
 * small classes with fixed shapes (one allocation each per request, no closures).
 */
import type { BackendError } from "../errors.js";
import type { Merger } from "./driver.js";

/** What a client connection offers the backend side (implemented by ClientConn). */
export interface SlotOwner {
  /** Client id: picks the backend connection, so one client's requests to a server stay ordered. */
  readonly id: number;
  /** Backend connection class of this client (ClientParser.channel). */
  readonly channel: number;
  readonly closed: boolean;
  /** A forward's reply: bytes [start, end) of buf, valid only during the call. */
  deliver(slot: Slot, buf: Buffer, start: number, end: number): void;
  /** The slot is finished with these bytes (may be empty), or its merger is ready. */
  complete(slot: Slot, reply: Buffer | null): void;
  /** The driver's reply for a request that could not be served (the error's message). */
  failReply(slot: Slot, err: BackendError): Buffer;
  /**
   * The slot is at the head of the client's replies: a large reply may stream to it (owners
   * without these two, such as a replica set's write fan-out, take every reply whole).
   */
  atHead?(slot: Slot): boolean;
  /**
   * A piece of the slot's reply, which streams (ReplyFramer.piece); deliver() ends it. False:
   * the client's socket is behind; `resume` is called once it has caught up.
   */
  piece?(slot: Slot, buf: Buffer, start: number, end: number, resume: () => void): boolean;
}

/** Slot and Request flags, packed into one small integer (one field instead of several). */
const DONE = 1;
const CLOSE = 2;
const SILENT = 4;
const RETRIED = 8;
const READ_ONLY = 16;
const IDEMPOTENT = 32;
const BLOCKING = 64;
/** Slot: part of its reply went to the client already (a streamed large reply). */
const STREAMED = 128;

const withBit = (bits: number, bit: number, on: boolean): number => (on ? bits | bit : bits & ~bit);

/**
 * A client's place in its ordered reply stream. One is allocated per request, so its booleans
 * share one field (accessors keep the call sites plain): fewer bytes per request means fewer
 * young-generation scavenges, whose pauses reach the p99 of pipelined load.
 */
export class Slot {
  private bits = 0;
  /** The reply when it completed before reaching the head (a copy), or a local reply. */
  reply: Buffer | null = null;
  /** Broadcast/split: the merger writes the reply once `pending` reaches 0. */
  merger: Merger | null = null;
  pending = 0;
  tag = 0;
  constructor(readonly owner: SlotOwner) {}

  get done(): boolean {
    return (this.bits & DONE) !== 0;
  }
  set done(v: boolean) {
    this.bits = withBit(this.bits, DONE, v);
  }
  /** Close the client after this reply (quit, protocol error). */
  get close(): boolean {
    return (this.bits & CLOSE) !== 0;
  }
  set close(v: boolean) {
    this.bits = withBit(this.bits, CLOSE, v);
  }
  get silent(): boolean {
    return (this.bits & SILENT) !== 0;
  }
  set silent(v: boolean) {
    this.bits = withBit(this.bits, SILENT, v);
  }
  /** Part of the reply went out already: a failure now cannot be answered in the protocol. */
  get streamed(): boolean {
    return (this.bits & STREAMED) !== 0;
  }
  set streamed(v: boolean) {
    this.bits = withBit(this.bits, STREAMED, v);
  }
}

export class Request {
  private bits: number;
  /** Bytes sent, for retry (set only for idempotent requests): a view into the backend buffer. */
  retryBuf: Buffer | undefined = undefined;
  /**
   * A copy of the bytes a retry hashes when they are not in retryBuf (Plan.hashKey: a meta
   * key with flag b, decoded); keyStart/keyEnd then index it instead of retryBuf.
   */
  hashKey: Buffer | undefined = undefined;
  keyStart = 0;
  keyEnd = 0;
  bytes = 0;
  /**
   * monoMicros() when queued: the server's latency histogram (admin /metrics), and the
   * request's deadline (plus the pool's timeout).
   */
  sentUs = 0;
  constructor(
    /** null: the proxy's own request (handshake); its reply is dropped. */
    readonly slot: Slot | null,
    /** Part index of a broadcast/split, -1 for a forward. */
    readonly part: number,
    readonly expect: number,
    silent: boolean,
  ) {
    this.bits = silent ? SILENT : 0;
  }

  get silent(): boolean {
    return (this.bits & SILENT) !== 0;
  }
  get retried(): boolean {
    return (this.bits & RETRIED) !== 0;
  }
  set retried(v: boolean) {
    this.bits = withBit(this.bits, RETRIED, v);
  }
  /** From the Plan (forwards): a replica set may serve it from a replica / retry it elsewhere. */
  get readOnly(): boolean {
    return (this.bits & READ_ONLY) !== 0;
  }
  set readOnly(v: boolean) {
    this.bits = withBit(this.bits, READ_ONLY, v);
  }
  get idempotent(): boolean {
    return (this.bits & IDEMPOTENT) !== 0;
  }
  set idempotent(v: boolean) {
    this.bits = withBit(this.bits, IDEMPOTENT, v);
  }
  /** Waits as long as the command asks (BLPOP q 30): no proxy timeout while at the head. */
  get blocking(): boolean {
    return (this.bits & BLOCKING) !== 0;
  }
  set blocking(v: boolean) {
    this.bits = withBit(this.bits, BLOCKING, v);
  }
}
