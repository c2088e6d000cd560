/**
 * One backend server of a pool: its `server_connections` pipelined connections, its counters
 * (twemproxy's per-server stats) and its consecutive-failure count (nc_server.c
 * server_failure / server_ok).
 */
import type { Endpoint, PoolConfig } from "../config/index.js";
import { BackendError } from "../errors.js";
import { Histogram } from "../metrics/histogram.js";
import { counters, type ProxyServerCounters, proxyServerMetrics } from "../metrics/table.js";
import { BackendConn, type ConnPool } from "./backend.js";
import { DedicatedPool, type DedicatedRoute, type DedicatedServer } from "./dedicated.js";
import type { ReplySink } from "./reply-sink.js";
import { Request } from "./request.js";
import type { TargetState } from "./target-state.js";

/** Bound of one connection's in-flight FIFO; beyond it requests are refused, not queued. */
export const MAX_INFLIGHT_PER_CONN = 16384;

/** A request refused because its connection's in-flight FIFO is full (MAX_INFLIGHT_PER_CONN). */
export function tooManyInFlight(server: string): BackendError {
  return new BackendError("KC_BACKEND_OVERLOADED", server, "has too many requests in flight");
}

/**
 * What a server, and whoever reads a server (the admin plane, the stats port), needs of its
 * pool (pool.ts ProxyPool): declared here so the server depends on this contract, not on the
 * pool that holds it.
 */
export interface ServerPool extends ConnPool {
  readonly name: string;
  readonly config: PoolConfig;
  /** The pool's entries, in config order (a server's index is its config line's). */
  readonly servers: readonly object[];
  /** Dedicated connections per server (dedicated.ts). */
  readonly dedicatedLimit: number;
  /** The pool's data plane: replies and failures of the server's connections go to it. */
  readonly plane: ReplySink;
  /** The pool's control plane: a server's control state (control.ts). */
  readonly control: { state(s: BackendServer): Readonly<TargetState> };
  /** One failure of `s` (a connection failed or timed out): the control plane counts it. */
  serverFailed(s: BackendServer, reason: string): void;
}

export class BackendServer implements DedicatedServer, DedicatedRoute {
  readonly counters: ProxyServerCounters = counters(proxyServerMetrics);
  /** [channel * server_connections + i]: see ClientParser.channel. */
  private readonly conns: (BackendConn | undefined)[] = [];
  private readonly perChannel: number;
  /**
   * Consecutive failures since the last reply (twemproxy failure_count): reset here by every
   * reply (the data path), counted and acted on by the pool's control plane (control.ts).
   */
  failures = 0;
  /** A routing-table entry is a server or a replica set (target.ts); this is a server. */
  readonly kind = "server" as const;
  /** The backend servers that carry this entry's connections: itself (a set: its members). */
  readonly backends: readonly BackendServer[] = [this];
  /** Request-to-reply time in ms (queue wait included), read by the admin plane. */
  readonly latency = new Histogram();
  /** The pool's data plane: replies and failures of this server's connections go to it. */
  readonly plane: ReplySink;
  /** Connections leased to one client each (dedicated.ts), made on first use. */
  private dedicated: DedicatedPool | undefined;

  constructor(
    readonly pool: ServerPool,
    /** Stats name (twemproxy: the server's name, else host:port). */
    readonly name: string,
    /** For messages: "127.0.0.1:11212". */
    readonly label: string,
    readonly endpoint: Endpoint,
    connections: number,
  ) {
    this.perChannel = connections;
    this.plane = pool.plane;
  }

  /** The connection for a client: fixed per client so its requests to this server stay ordered. */
  conn(clientId: number, channel = 0): BackendConn {
    const i = channel * this.perChannel + (clientId % this.perChannel);
    let c = this.conns[i];
    if (c === undefined || c.dead) {
      c = new BackendConn(this, channel);
      this.conns[i] = c;
    }
    return c;
  }

  /** False when the request was refused (the connection's FIFO is full). */
  send(
    req: Request,
    clientId: number,
    channel: number,
    buf: Buffer,
    start: number,
    end: number,
    keepForRetry: boolean,
  ): boolean {
    const c = this.conn(clientId, channel);
    if (c.inflightCount >= MAX_INFLIGHT_PER_CONN) return false;
    c.send(req, buf, start, end, keepForRetry);
    return true;
  }

  /** This server's pool of dedicated connections (dedicated.ts). */
  dedicatedPool(): DedicatedPool {
    if (this.dedicated === undefined) this.dedicated = new DedicatedPool(this);
    return this.dedicated;
  }

  /**
   * The server a dedicated connection for this pool entry goes to: itself (a replica set:
   * its current write target, replicaset/set.ts), undefined when there is none now.
   */
  dedicatedTarget(): BackendServer | undefined {
    return this;
  }

  /** Closes its dedicated connections; their clients get `reason` (failover, removal). */
  closeDedicated(reason: string): void {
    this.dedicated?.closeAll(reason);
  }

  /** A request of the proxy's own (handshake) on `conn`. */
  sendInternal(conn: BackendConn, request: Buffer, expect: number): void {
    conn.send(new Request(null, -1, expect, true), request, 0, request.length, false);
  }

  onReply(): void {
    this.failures = 0;
  }

  connFailed(conn: BackendConn, err: BackendError, reqs: Request[]): void {
    const i = this.conns.indexOf(conn);
    if (i >= 0) this.conns[i] = undefined;
    this.pool.serverFailed(this, err.reason);
    for (const r of reqs) this.plane.failRequest(r, this, err, true);
  }

  /** Live connections (preconnect, stats). */
  forEachConn(fn: (c: BackendConn) => void): void {
    for (const c of this.conns) if (c !== undefined && !c.dead) fn(c);
  }

  preconnect(): void {
    for (let i = 0; i < this.perChannel; i++) this.conn(i).open();
  }

  /** Removed by a reload: connections close once their in-flight requests are answered. */
  retire(reason: string): void {
    for (const c of this.conns) c?.retire(reason);
    this.conns.length = 0;
    this.closeDedicated(reason);
  }

  close(reason: string): void {
    for (const c of this.conns) c?.close(reason);
    this.conns.length = 0;
    this.closeDedicated(reason);
  }
}
