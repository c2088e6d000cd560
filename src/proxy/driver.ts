/**
 * The one interface both proxy protocols implement (twemproxy's proto/ model: nc_memcache.c and
 * nc_redis.c behind the same msg hooks). The router, backend pool and client connection are
 * protocol-blind: they move byte ranges and follow a Plan. Adding a protocol means adding a
 * driver, never a branch in the router.
 *
 * Redis engineer: src/proxy/redis/index.ts exports `redisDriver: ProtocolDriver`; the proxy
 * loads it for pools with `redis: true` (src/proxy/drivers.ts).
 *
 * Contract for byte ranges: every (buf, start, end) a driver hands out is valid only until the
 * next call into that parser/framer. The proxy copies what it keeps (into a backend's or a
 * client's OutBuffer) before calling again. Values are never decoded or re-encoded.
 */
import type { OutBuffer } from "../util/out-buffer.js";

/**
 * How a parsed request is to be served. Small and short-lived: the proxy consumes a plan before
 * calling next() again, so a parser may hand out one reused object (the memcache text forward).
 */
export type Plan =
  /**
   * The proxy answers itself (PING, version, an error); `close` after writing. `barrier`: the
   * client's later requests wait until every reply before this one is written, because they
   * go on another backend channel (ClientParser.channel) than the requests still in flight,
   * and requests on different backend connections are not ordered with each other (a Redis
   * client's HELLO that switches its protocol).
   */
  | { kind: "local"; reply: Buffer; close?: boolean; barrier?: boolean }
  /**
   * One server, chosen by hashing key bytes [keyStart, keyEnd) of `buf`. The request bytes to
   * send are [frameStart, frameEnd) of `buf` unless `rewrite` is given (e.g. noreply stripped so
   * the backend always answers and the stream can never desync). `expect` is the
   * driver's token for the reply framer (e.g. "a retrieval, read VALUE blocks until END").
   * `silent`: the client asked for no reply (noreply / quiet); the proxy drops the backend's
   * answer unless it is an error the client must see.
   */
  | {
      kind: "forward";
      buf: Buffer;
      keyStart: number;
      keyEnd: number;
      frameStart: number;
      frameEnd: number;
      rewrite?: Buffer;
      expect: number;
      silent: boolean;
      /** Safe to retry on another member/server after a failure (reads, idempotent writes). */
      idempotent: boolean;
      /** Read-only: a replica set may serve it from a replica. */
      readOnly: boolean;
      /** Driver data handed back to ClientParser.failReply (binary: opcode and opaque). */
      tag?: number;
      /**
       * The bytes to hash when they are not the key as it stands in the frame (meta flag b:
       * the decoded key, protocol.txt "Meta Get"); [keyStart, keyEnd) still locate the key in
       * the frame. Valid until the next call into the parser: the pool keeps a copy for a retry,
       * so a retry picks the new owner of the same bytes.
       */
      hashKey?: Buffer;
      /**
       * The backend connection class (Conn below): the shared pipelined connection, or one
       * dedicated to this client because the request makes the server connection stateful
       * (a blocking pop, WATCH, subscriber mode). Driver-level: the core never asks why.
       */
      conn: number;
    }
  /** Every server of the pool gets `request`; the replies are merged (flush_all, stats). */
  | {
      kind: "broadcast";
      request: Buffer;
      expect: number;
      merge: Merger;
      silent: boolean;
      /** It only reads (stats, INFO): a replica set serves it from one member by its read policy. */
      readOnly: boolean;
      tag?: number;
    }
  /**
   * Sub-requests per key group (multi-get, MGET, MSET, DEL); replies merged in order. Each part
   * is routed on its own by its key bytes; parts that land on one server are pipelined on one
   * connection in the same write, so per-key parts cost no extra syscalls.
   */
  | {
      kind: "split";
      parts: SplitPart[];
      expect: number;
      merge: Merger;
      silent: boolean;
      /** Every part only reads (multi-get, MGET): as a broadcast's readOnly. */
      readOnly: boolean;
      tag?: number;
    };

/**
 * Backend connection classes of a forward plan (ForwardPlan.conn). A client holds at most one
 * dedicated connection (a lease from its server's bounded pool, dedicated.ts); while it holds
 * one, every forward of its to that server goes on it, whatever the class, so the server sees
 * the client's requests in order on one connection.
 */
export const Conn = {
  /** The shared pipelined connection (or the held dedicated one to that server). */
  Shared: 0,
  /** A dedicated connection, kept after the reply (WATCH): taken if none is held. */
  Hold: 1,
  /** A dedicated connection for this request only (a blocking pop, SCRIPT KILL): returned
   * after the reply unless one was already held. No proxy `timeout` while it waits. */
  Once: 2,
  /** On the held dedicated connection, returned after the reply (EXEC, UNWATCH); fails when
   * none is held any more (it was lost with its server state). */
  Release: 3,
  /**
   * A dedicated connection that becomes a stream (subscriber mode, MONITOR): every reply the
   * server sends goes to the client as it comes, and every later request of the client is
   * written to it unanswered by the core. Closed, never reused, when the client goes.
   */
  Stream: 4,
  /**
   * A dedicated connection for one request whose large last argument streams through as it
   * arrives (ParseResult.Upload): the shared connection would carry nobody else's requests
   * until the client finished sending. Returned after the reply unless one was already held;
   * the proxy `timeout` runs from the request's last byte.
   */
  Upload: 5,
} as const;

/** A plan that forwards one request to the server its key hashes to. */
export type ForwardPlan = Extract<Plan, { kind: "forward" }>;

const NO_BYTES = Buffer.alloc(0);

/**
 * A forward plan with every field present, optional ones included: a parser reuses one for
 * each keyed request (a plan is consumed before the next next() call), so every driver's
 * forwards share one object shape and the router's reads of them stay monomorphic.
 */
export function newForwardPlan(expect = 0): ForwardPlan {
  return {
    kind: "forward",
    buf: NO_BYTES,
    keyStart: 0,
    keyEnd: 0,
    frameStart: 0,
    frameEnd: 0,
    rewrite: undefined,
    expect,
    silent: false,
    idempotent: false,
    readOnly: false,
    tag: undefined,
    hashKey: undefined,
    conn: Conn.Shared,
  };
}

/** One sub-request of a split: routed by bytes [keyStart, keyEnd) of keyBuf. */
export interface SplitPart {
  keyBuf: Buffer;
  keyStart: number;
  keyEnd: number;
  request: Buffer;
}

/** The pool's current key → server mapping (RoutingTable.picker). */
export interface KeyPicker {
  pick(buf: Buffer, start: number, end: number): number;
}

/** Collects the replies of a broadcast or split and writes the client's one reply. */
export interface Merger {
  /** Reply bytes of part `index` (a copy the merger may keep). */
  add(index: number, reply: Buffer): void;
  /** Part `index` failed (server down, timeout): `reason` names the backend and the cause. */
  fail(index: number, reason: string): void;
  /** Writes the merged reply once every part has reported. */
  write(out: OutBuffer): void;
  /**
   * Optional: the retry of a split part whose keys may now belong to several servers (a failed
   * request is retried once, on the server that owns the key now: dispatch.ts). Part
   * `index` failed without a reply; the merger regroups its keys by `picker` (the current
   * table), takes the groups as new parts numbered `first`, `first + 1`, ... (the failed part
   * then owns no key and is never reported), and returns them; their replies are merged in
   * the client's key order. Undefined when the part cannot be re-planned. A merger without
   * replan gets the pool's per-request retry (a part whose keyBuf is its request).
   */
  replan?(index: number, picker: KeyPicker): { first: number; parts: SplitPart[] } | undefined;
}

export enum ParseResult {
  NeedMore = 0,
  Plan = 1,
  /** A protocol error: `errorReply` is the protocol's own error; close if `close`. */
  Error = 2,
  /**
   * A forward `plan` whose request is still arriving (a large value): [frameStart, frameEnd)
   * is what came so far. The core either takes it as a stream (acceptStream(), then the rest
   * comes as Pieces) or calls next() again, and the request is buffered whole as any other.
   */
  Upload = 3,
  /** After acceptStream(): the next bytes of the request being uploaded (`piece`). */
  Piece = 4,
}

/** Frames client requests and turns each into a Plan. One per client connection. */
export interface ClientParser {
  feed(chunk: Buffer): void;
  next(): ParseResult;
  /** Valid after next() returned Plan. */
  plan: Plan | undefined;
  /** Valid after next() returned Error. */
  errorReply: Buffer | undefined;
  close: boolean;
  /**
   * The bytes a client gets when its request (with the plan's `tag` and `silent`) could not be
   * served; `message` names the backend and the reason. Empty when the protocol sends nothing
   * (memcached noreply). Redis: `-ERR <message>`.
   */
  failReply(tag: number, silent: boolean, message: string): Buffer;
  /**
   * Backend connection class (optional, default 0): requests of clients on different channels
   * never share a backend connection, and a connection of channel c opens with the pool's
   * handshake plus ProtocolDriver.channelHandshake(c). memcached fixes a connection's protocol
   * at its first byte (memcached.c try_read_command), so text and binary clients need
   * separate ones; Redis fixes a connection's reply protocol by HELLO, so RESP2 and RESP3
   * clients do too.
   * Read when a plan is routed, so a driver may set it per plan (memcache: `lru_crawler
   * metadump` on a connection class of its own, memcache/text-client.ts DUMP_CHANNEL).
   */
  readonly channel?: number;
  /** Takes the request of the last ParseResult.Upload as a stream (drivers that offer one). */
  acceptStream?(): void;
  /** After Piece: bytes [pieceStart, pieceEnd) of pieceBuf, valid until the next call. */
  pieceBuf?: Buffer;
  pieceStart?: number;
  pieceEnd?: number;
  /** The piece ends the request. */
  pieceLast?: boolean;
  /**
   * Optional: the plan just returned is one slice of a request too large to plan at once (a
   * multi-get of thousands of keys), and next() returns its next slice. The client asks for it
   * on a later event-loop turn (client.ts), so one request is served a bounded slice per turn
   * and other clients are served in between. Read only after a split plan.
   */
  readonly more?: boolean;
}

/** Frames one backend connection's replies. `expect` is the token the Plan carried. */
export interface ReplyFramer {
  feed(chunk: Buffer): void;
  /** Frames the next whole reply for a request of kind `expect`; false when more bytes are needed. */
  next(expect: number): boolean;
  /** The reply just framed: bytes [start, end) of buf. */
  buf: Buffer;
  start: number;
  end: number;
  /** The reply is a server error (twemproxy counts these; a retry policy may act on them). */
  isError: boolean;
  /**
   * A request sent with `silent` does not show this reply (memcached noreply: every reply;
   * binary GetQ: a miss; SetQ / meta q: a success). Set by next(); false when a protocol has no
   * silent requests (Redis).
   */
  droppable: boolean;
  /** The backend broke the protocol: the connection must be closed and its requests failed. */
  broken: boolean;
  /**
   * Set by next() when the request was a bundle (several requests in one write, of which the
   * client sees one reply): a copy of the first error reply the bundle's other replies held,
   * else undefined. A reply hook may act on it (a Redis Cluster pool: a -MOVED inside MULTI ...
   * EXEC, whose EXEC then only says EXECABORT). Framers without bundles leave this out.
   */
  readonly skippedError?: Buffer | undefined;
  /**
   * After next() returned false: the reply in progress is large and may go to its client in
   * pieces (piece()) rather than be held whole. Once a piece was taken the rest must be too;
   * next() then frames the reply's last bytes. Framers that never stream leave this out.
   */
  readonly streamable?: boolean;
  /** Frames the received bytes of a streamable reply as [buf, start, end); false when none. */
  piece?(): boolean;
  /**
   * Frames that answered no request and were skipped (a shared connection's framer, see
   * ProtocolDriver.newReplyFramer); the core adds them to a counter and resets this to 0.
   */
  skipped?: number;
  /**
   * Called when no request is in flight after a read (the connection is no stream): skips
   * out-of-band frames waiting (a shared connection's, counted in `skipped`) and returns true
   * when nothing else is waiting (an out-of-band frame may still be arriving); false: bytes
   * nobody asked for, the connection is out of step and is closed. A framer without it: any
   * byte that arrives with no request in flight closes the connection.
   */
  skipUnsolicited?(): boolean;
}

export interface DriverLimits {
  maxRequestBytes: number;
  /** The pool's command policy as compiled by its driver (read per request: a reload swaps it). */
  readonly commandPolicy?: CommandPolicy;
}

/**
 * A driver's per-pool command policy (Redis: allow_commands / deny_commands and the default
 * refusals), compiled once per (re)load by ProtocolDriver.commandPolicy; opaque to the core.
 */
export interface CommandPolicy {
  readonly driver: string;
}

/** One request sent on every new backend connection before any client request. */
export interface HandshakeStep {
  request: Buffer;
  expect: number;
  /**
   * Why the reply breaks the connection (it is then closed and counted as a server failure),
   * or undefined when it is fine; without `check` any reply is accepted.
   */
  check?(reply: Buffer): string | undefined;
}

/**
 * A backend reply as a replica set's merge and retry decisions see it (replicaset/op.ts,
 * fanout.ts). The driver classifies; the set never looks at protocol bytes.
 */
export enum ReplyClass {
  Ok = 0,
  /** A read found nothing (memcached END / EN / binary NOT_FOUND on a get; Redis nil). */
  Miss = 1,
  /** A write was refused on its merits: NOT_STORED, EXISTS, NOT_FOUND (protocol.txt). */
  Refused = 2,
  /** SERVER_ERROR, ERROR, CLIENT_ERROR, a binary error status, a Redis error. */
  Error = 3,
  /**
   * Redis -READONLY, -MASTERDOWN, -LOADING (sentinel-clients.md): the server cannot serve this
   * now because of its role; the request was not executed, so it is safe to send elsewhere.
   */
  RoleChange = 4,
}

/** How a protocol's servers behave as members of a replica set (replicaset/). */
export interface SetBehaviour {
  /** Every request goes to one member at a time, writes to the one write target (Redis). */
  readonly singleWriter: boolean;
  /** A read answered with an error is tried on another member (memcached: a member's own fault). */
  readonly retryReadErrors: boolean;
  /**
   * A write acknowledged by a member that lost the write target role meanwhile is refused: its
   * data is discarded when it resyncs from the new master (Redis replication).
   */
  readonly fenceAcks: boolean;
}

/** A protocol, as the proxy sees it. */
export interface ProtocolDriver {
  readonly name: "memcache" | "redis";
  /** The class of a backend reply (pure, no allocation: it runs per member reply). */
  replyClass(buf: Buffer, start: number, end: number): ReplyClass;
  readonly replicaSet: SetBehaviour;
  newClientParser(limits: DriverLimits, state: ClientState): ClientParser;
  /**
   * A backend connection's reply framer. `shared`: the connection is a shared pipelined one,
   * which carries no stream (subscriber mode, tracking), so a frame the protocol marks as
   * out-of-band (a RESP3 push) cannot be a reply: it is skipped and counted (skipped), never
   * matched to a request. A dedicated connection's framer hands such frames out.
   */
  newReplyFramer(shared?: boolean): ReplyFramer;
  /** The reply a client gets when its request could not be served: SERVER_ERROR / -ERR. */
  errorReply(message: string): Buffer;
  /** A health probe request and how to judge its reply (memcached `version`, Redis `PING`). */
  probe(): { request: Buffer; expect: number; ok(reply: Buffer): boolean };
  /** Requests sent once on every new backend connection (AUTH, SELECT) with their expects. */
  handshake(pool: {
    redisAuth?: string;
    redisDb?: number;
    redisUser?: { name: string; password: string };
  }): HandshakeStep[];
  /**
   * Requests sent after handshake() on every new connection of backend channel `channel`
   * (ClientParser.channel) > 0: what makes the connection serve that channel's clients
   * (Redis: HELLO 3 for RESP3 clients). Drivers whose channels need none leave this out.
   */
  channelHandshake?(channel: number): HandshakeStep[];
  /** Compiles a pool's command policy (drivers without one leave this out). */
  commandPolicy?(pool: {
    allowCommands: readonly string[];
    denyCommands: readonly string[];
    backendAcl: boolean;
  }): CommandPolicy;
}

/** Per-client state a driver may keep across requests (AUTH done, RESP3, MULTI open). */
export interface ClientState {
  authenticated: boolean;
  /** Set by the proxy from the pool config; the driver answers AUTH against it. */
  password: string | undefined;
  resp3: boolean;
  /** Server index pinned by a transaction or a single-server pool, -1 when none. */
  pinned: number;
  /**
   * The pool's key → server index mapping as the router applies it now (its Picker.pick, hash
   * tag included), and the pool's server count. A driver uses them to group split keys by
   * server and to check that several keys share one (Redis hash tags, MULTI, EVAL); the core
   * updates both when it swaps the pool or ejects a server. (Added for the Redis driver.)
   */
  shardOf(buf: Buffer, start: number, end: number): number;
  servers: number;
  /**
   * The server index of the dedicated connection this client holds (Conn), -1 when none: it
   * may be lost at any time with its server (a failover, a timeout), and the driver must not
   * act on server state (WATCH) that went with it. These three are always set by the proxy
   * core (client.ts); optional only so that parser unit tests may leave them out.
   */
  dedicated?: number;
  /** The held dedicated connection is a stream (Conn.Stream). */
  streaming?: boolean;
  /** Closes the held dedicated connection (RESET: its server state is dropped with it). */
  dropDedicated?(): void;
}
