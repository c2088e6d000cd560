/**
 * One request in flight to one backend, and the client-side reply slot it fills. Both are
 * small classes with fixed shapes (one allocation each per request, no closures).
 */
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
  /** The driver's reply for a request that could not be served. */
  failReply(slot: Slot, message: string): Buffer;
}

/** A client's place in its ordered reply stream. */
export class Slot {
  done = false;
  /** The reply when it completed before reaching the head (a copy), or a local reply. */
  reply: Buffer | null = null;
  /** Broadcast/split: the merger writes the reply once `pending` reaches 0. */
  merger: Merger | null = null;
  pending = 0;
  /** Close the client after this reply (quit, protocol error). */
  close = false;
  silent = false;
  tag = 0;
  constructor(readonly owner: SlotOwner) {}
}

export class Request {
  /** Bytes sent, for retry (set only for idempotent requests): a view into the backend buffer. */
  retryBuf: Buffer | undefined = undefined;
  /**
   * A copy of the bytes a retry hashes when they are not in retryBuf (Plan.hashKey: a meta
   * key with flag b, decoded); keyStart/keyEnd then index it instead of retryBuf.
   */
  hashKey: Buffer | undefined = undefined;
  keyStart = 0;
  keyEnd = 0;
  retried = false;
  bytes = 0;
  /** From the Plan (forwards): a replica set may serve it from a replica / retry it elsewhere. */
  readOnly = false;
  idempotent = false;
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
    readonly silent: boolean,
  ) {}
}
