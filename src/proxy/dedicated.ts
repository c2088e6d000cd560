/**
 * Dedicated backend connections: the second connection class next to the shared pipelined one
 * (driver.ts Conn). Some requests make a server connection stateful for as long as the client
 * needs it: a blocking pop waits on it, WATCH keeps state on it until EXEC, subscriber mode and
 * MONITOR turn it into a stream. Such a request cannot go on the connection other clients share
 * (their requests would queue behind the blocked one, or join its state), so the client takes a
 * connection of its own from its server's bounded pool (`redis_dedicated_connections` per
 * server), and gives it back when the state ends, or closes it when the state cannot be reset
 * cleanly (a stream, a client gone mid-request).
 *
 * The core stays protocol-blind: the driver marks a forward with its class; this file only
 * leases, routes and returns connections. A dedicated connection's failure does not count
 * toward ejection (the shared connections and the health checks judge the server); its
 * requests fail with the reason, and a stream's client gets the error and is closed, so no
 * client hangs on a connection that is gone (a replica set's failover closes the demoted
 * member's dedicated connections, replicaset/set.ts).
 */
import { BackendError } from "../errors.js";
import { BackendConn, type ConnOwner, type ConnPool, type ConnServer } from "./backend.js";
import { Conn, type ForwardPlan, type ReplyFramer } from "./driver.js";
import { Request, type Slot, type SlotOwner } from "./request.js";

/** Idle dedicated connections kept per server for the next client (the rest are closed). */
const MAX_IDLE = 8;

/**
 * What a dedicated connection needs of the client that holds it (client.ts ClientConn),
 * declared here so leasing depends on this contract, not on the client connection.
 */
export interface LeaseHolder extends SlotOwner {
  /** The dedicated connection the client holds, null when none. */
  readonly lease: Dedicated | null;
  setLease(d: Dedicated | null): void;
  /** Its lease became (or stopped being) a stream: requests are written to it unanswered. */
  setStreaming(on: boolean): void;
  /** Reply bytes of stream `d`, in order after every reply before the stream began. */
  stream(d: Dedicated, buf: Buffer, start: number, end: number): void;
  /** Stream `d`'s server connection is gone: the client gets `message` and is closed. */
  streamLost(d: Dedicated, message: string): void;
  /** The counters of the pool the client is in (a refused request counts as forward_error). */
  readonly pool: { readonly counters: { forward_error: number } };
}

/**
 * What routing to a pool entry (a server or a replica set, target.ts) needs of it: its name in
 * messages and the server its dedicated connections go to now.
 */
export interface DedicatedRoute {
  readonly label: string;
  /** Undefined when there is none now (a replica set between masters). */
  dedicatedTarget(): { dedicatedPool(): DedicatedPool } | undefined;
}

/** One dedicated connection: leased to one client, or idle in its server's pool. */
export class Dedicated implements ConnOwner {
  readonly conn: BackendConn;
  client: LeaseHolder | null = null;
  /** The routing table's server index it serves (a replica set's index for its members). */
  index = -1;
  /** Give it back once nothing is in flight (Conn.Once, Conn.Release). */
  releasing = false;
  /**
   * Leased for one request that holds no other server state (Conn.Once taken fresh: a blocking
   * pop, WAIT, SCRIPT KILL): a redirect may move it to another server (again).
   */
  single = false;
  /** Subscriber mode or MONITOR: replies go to the client as they come (Conn.Stream). */
  streaming = false;
  /** The client's slot the stream's replies are written at (never completed). */
  slot: Slot | null = null;
  /** Stream bytes that arrived before the stream's slot reached the head of the client's queue. */
  held: Buffer[] = [];
  heldBytes = 0;

  constructor(
    readonly pool: DedicatedPool,
    /** The backend channel of the clients it serves (ClientParser.channel: a RESP3 one). */
    readonly channel: number,
  ) {
    this.conn = new BackendConn(pool.server, channel, false);
    this.conn.owner = this;
  }

  /** A reply for `req` (BackendConn.frame, instead of the pool's settle). */
  framed(req: Request, framer: ReplyFramer): void {
    if (req.slot === null && this.streaming && req.part === STREAM_PART) {
      this.streamed(framer.buf, framer.start, framer.end);
      return;
    }
    this.pool.server.plane.settle(req, framer, this);
    if (this.releasing && this.conn.inflightCount === 0 && !this.conn.dead) this.giveBack();
  }

  /** Its server's address (ReplyVia). */
  get label(): string {
    return this.pool.server.label;
  }

  /**
   * Sends `req` again, whose dedicated connection this was alone (single), on a new dedicated
   * connection of `target`, at table index `idx`; the client's lease moves there, and this one
   * goes back to its pool once its reply is settled (framed). A Redis Cluster pool's redirect of
   * a blocking command (cluster/replies.ts). Returns why it could not, or undefined.
   */
  again(
    req: Request,
    target: DedicatedRoute,
    idx: number,
    bytes: Buffer,
  ): BackendError | undefined {
    const client = this.client;
    if (client === null || client.closed)
      return new BackendError("KC_BACKEND_CLOSED", target.label, "has no client for the request");
    const d = leaseFor(target, client, idx, this.channel);
    if (d instanceof BackendError) return d;
    d.releasing = true;
    d.single = true;
    req.blocking = true;
    d.conn.send(req, bytes, 0, bytes.length, true);
    return undefined;
  }

  /** A reply of the stream (subscriber mode pushes, MONITOR lines). */
  streamed(buf: Buffer, start: number, end: number): void {
    const c = this.client;
    if (c === null || this.slot === null) return;
    c.stream(this, buf, start, end);
  }

  /** The connection failed or was closed: fail what is in flight, tell the client. */
  died(err: BackendError, reqs: Request[]): void {
    const server = this.pool.server;
    this.pool.forget(this);
    for (const r of reqs) server.plane.failRequest(r, server, err, false);
    const c = this.client;
    this.client = null;
    if (c === null || c.lease !== this) return;
    c.setLease(null);
    if (this.streaming) c.streamLost(this, err.message);
  }

  /** Back to the pool (its server state is clean: nothing held, nothing in flight). */
  giveBack(): void {
    const c = this.client;
    if (c !== null && c.lease === this) c.setLease(null);
    this.client = null;
    this.releasing = false;
    this.single = false;
    this.index = -1;
    this.pool.giveBack(this);
  }

  /** Closed for good (a stream, a client gone, RESET): its server state goes with it. */
  drop(reason: string): void {
    const c = this.client;
    if (c !== null && c.lease === this) c.setLease(null);
    this.client = null;
    this.conn.close(reason);
  }
}

/** Marks the internal request that carries a stream's first request (Request.part). */
const STREAM_PART = -2;

/** What a server's dedicated connections need of it (server.ts BackendServer). */
export interface DedicatedServer extends ConnServer {
  readonly pool: ConnPool & { readonly dedicatedLimit: number };
}

/**
 * A server's dedicated connections: bounded, with a few idle ones kept for reuse. An idle one
 * is reused only by a client of its backend channel (it said HELLO 3 or not at connect).
 */
export class DedicatedPool {
  private readonly idle: Dedicated[] = [];
  /** Leased and idle. */
  private readonly all = new Set<Dedicated>();

  constructor(readonly server: DedicatedServer) {}

  /** A connection for a client of `channel`, or the error when the server's limit is reached. */
  acquire(channel: number): Dedicated | BackendError {
    const c = this.server.counters;
    const idle = this.idle;
    for (let i = idle.length - 1; i >= 0; i--) {
      const reuse = idle[i];
      if (reuse.channel !== channel) continue;
      idle.splice(i, 1);
      c.dedicated_idle--;
      c.dedicated_leased++;
      return reuse;
    }
    const limit = this.server.pool.dedicatedLimit;
    // An idle connection of the other channel makes room (closing it drops it from `all`).
    if (this.all.size >= limit && idle.length > 0)
      idle[0].conn.close("idle dedicated connection closed");
    if (this.all.size >= limit) {
      c.dedicated_refused++;
      return new BackendError(
        "KC_BACKEND_OVERLOADED",
        this.server.label,
        `has all ${limit} dedicated connections in use (redis_dedicated_connections in the pool config)`,
      );
    }
    const d = new Dedicated(this, channel);
    this.all.add(d);
    c.dedicated_leased++;
    c.dedicated_opened++;
    return d;
  }

  giveBack(d: Dedicated): void {
    if (this.idle.length >= MAX_IDLE) {
      d.conn.close("idle dedicated connection closed");
      return;
    }
    this.server.counters.dedicated_leased--;
    this.server.counters.dedicated_idle++;
    this.idle.push(d);
  }

  /** `d`'s connection is gone (from BackendConn's fail/close). */
  forget(d: Dedicated): void {
    if (!this.all.delete(d)) return;
    const i = this.idle.indexOf(d);
    if (i >= 0) {
      this.idle.splice(i, 1);
      this.server.counters.dedicated_idle--;
    } else this.server.counters.dedicated_leased--;
  }

  /** Closes every connection; leased ones fail their requests with `reason` (failover, removal). */
  closeAll(reason: string): void {
    for (const d of [...this.all]) d.conn.close(reason);
  }
}

/**
 * Routes forward `plan` of `client` (its server index `idx`) when it needs a dedicated
 * connection or the client holds one; false: the shared path serves it.
 */
export function routeDedicated(
  client: LeaseHolder,
  slot: Slot,
  plan: ForwardPlan,
  idx: number,
  req: Request,
  server: DedicatedRoute,
): boolean {
  const lease = client.lease;
  const cls = plan.conn;
  if (lease !== null && lease.index === idx) {
    if (cls === Conn.Release) lease.releasing = true;
    if (cls === Conn.Stream) return startStream(client, slot, plan, lease);
    // An upload waits for its client, not its server, until its last byte (backend.ts sendMore).
    if (cls === Conn.Once || cls === Conn.Upload) req.blocking = true;
    sendOn(lease, req, plan);
    return true;
  }
  if (cls === Conn.Shared) return false;
  if (cls === Conn.Release) {
    fail(
      client,
      slot,
      new BackendError("KC_BACKEND_CLOSED", server.label, "closed the dedicated connection", {
        message:
          "keepcache: the dedicated server connection this request belongs to was closed (its server state, e.g. WATCH, is lost); start over",
      }),
    );
    return true;
  }
  if (lease !== null) {
    fail(
      client,
      slot,
      new BackendError(
        "KC_BACKEND_UNAVAILABLE",
        server.label,
        "is not the server of the client's dedicated connection",
        {
          message: `keepcache: this connection already holds a dedicated connection to another server than ${server.label}`,
        },
      ),
    );
    return true;
  }
  const d = leaseFor(server, client, idx, client.channel);
  if (d instanceof BackendError) {
    fail(client, slot, d);
    return true;
  }
  if (cls === Conn.Stream) return startStream(client, slot, plan, d);
  d.releasing = cls === Conn.Once || cls === Conn.Upload;
  d.single = cls === Conn.Once;
  if (d.releasing) req.blocking = true;
  // A single request keeps a view of its bytes (no copy) for a redirect (Dedicated.again).
  sendOn(d, req, plan, d.single);
  return true;
}

/**
 * A dedicated connection of `route`'s current server (`channel`: the client's protocol) leased
 * to `client` for table index `idx`, or why there is none.
 */
function leaseFor(
  route: DedicatedRoute,
  client: LeaseHolder,
  idx: number,
  channel: number,
): Dedicated | BackendError {
  const target = route.dedicatedTarget();
  if (target === undefined)
    return new BackendError(
      "KC_BACKEND_UNAVAILABLE",
      route.label,
      "has no server to connect to now",
    );
  const d = target.dedicatedPool().acquire(channel);
  if (d instanceof BackendError) return d;
  d.client = client;
  d.index = idx;
  client.setLease(d);
  return d;
}

function sendOn(d: Dedicated, req: Request, plan: ForwardPlan, keep = false): void {
  const bytes = plan.rewrite;
  if (bytes !== undefined) d.conn.send(req, bytes, 0, bytes.length, keep);
  else d.conn.send(req, plan.buf, plan.frameStart, plan.frameEnd, keep);
}

/** The request that turns `d` into a stream; its replies go to `slot` as they come. */
function startStream(client: LeaseHolder, slot: Slot, plan: ForwardPlan, d: Dedicated): boolean {
  d.streaming = true;
  d.releasing = false;
  d.slot = slot;
  client.setStreaming(true);
  // Its reply (after the driver's prelude, e.g. HELLO 3) is the stream's first; it waits for
  // messages as long as the client likes, so no proxy timeout applies (blocking).
  const first = new Request(null, STREAM_PART, plan.expect, true);
  first.blocking = true;
  sendOn(d, first, plan);
  return true;
}

function fail(client: LeaseHolder, slot: Slot, err: BackendError): void {
  client.pool.counters.forward_error++;
  client.complete(slot, client.failReply(slot, err));
}
