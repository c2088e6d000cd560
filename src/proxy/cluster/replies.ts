/**
 * What a cluster client must do with the replies (cluster-spec.md "Redirection and
 * resharding"), as the data plane's reply hook (reply-sink.ts ReplyHook). The same in the
 * primary (control.ts) and in a worker process (workers/cluster-follower.ts); only where the
 * table comes from and how a refresh is asked for differ (ClusterRouting).
 *   -MOVED slot host:port  the request is sent again to that node, the slot's table entry is
 *                          pointed there at once, and a refresh is asked for;
 *   -ASK slot host:port    ASKING then the request, on that node, this once ("ASK redirection").
 * A request follows at most MAX_HOPS redirects; then the client sees the last one.
 *
 * On a dedicated connection (dedicated.ts), a request that has it to itself (a blocking pop,
 * WAIT) is sent again on a dedicated connection of the new node, as redis-cluster-proxy does;
 * one inside a transaction (after WATCH) gets a clear error instead: its state cannot move.
 *
 * Failover: a read whose master cannot be reached waits, bounded by `cluster_failover_wait`
 * and MAX_WAITING, for the table to name another master, then goes there; anything else fails
 * at once with the backend's name and reason, because a write whose connection broke may have
 * been applied, and sending it again could apply it twice.
 */
import { BackendError } from "../../errors.js";
import type { ReplyFramer } from "../driver.js";
import type { ProxyPool } from "../pool.js";
import { expectToken } from "../redis/reply-framer.js";
import type { ReplyHook, ReplyVia, ServerRef } from "../reply-sink.js";
import type { Request } from "../request.js";
import { tooManyInFlight } from "../server.js";
import type { PoolTarget } from "../target.js";
import { Redirected } from "./node.js";
import { parseRedirect, type Redirect } from "./redirect.js";
import type { ClusterTable } from "./table.js";

export const ASKING = Buffer.from("*1\r\n$6\r\nASKING\r\n");
/** Redirects one request may follow (a slot moving twice during one request is already rare). */
const MAX_HOPS = 5;
/** Reads held for a failover at once; more fail at once. */
const MAX_WAITING = 10_000;
const WAIT_TICK_MS = 50;

interface Waiting {
  req: Request;
  server: ServerRef;
  err: BackendError;
  deadline: number;
}

/** Where the replies' handling gets its table and servers, and how it asks for a new map. */
export interface ClusterRouting {
  /** The table last built (a -MOVED points one slot of it elsewhere, in place). */
  readonly current: ClusterTable | undefined;
  /** The server for a node a redirect named (servers.ts ClusterServers.at). */
  serverAt(host: string, port: number): PoolTarget;
  /** The map may have changed: refresh it soon (coalesced and rate-limited by the owner). */
  refreshSoon(): void;
  /** The host of a redirect that names none (cluster-preferred-endpoint-type unknown-endpoint). */
  seedHost(): string;
}

export class ClusterReplies implements ReplyHook {
  readonly keepSent = true;
  private waiting: Waiting[] = [];
  private waitTimer: NodeJS.Timeout | undefined = undefined;
  private closed = false;

  constructor(
    private readonly pool: ProxyPool,
    private readonly routing: ClusterRouting,
  ) {}

  settle(req: Request, framer: ReplyFramer, via?: ReplyVia): boolean {
    // Redirects are not server errors to the framer (isError): look at the reply's first byte.
    // A reply that streamed (an array holding a large value) is not one: its frame is its tail,
    // which may start with an element's '-'.
    if (framer.buf[framer.start] !== 0x2d || req.slot === null || req.slot.streamed) return false;
    // On a dedicated connection only a request that has it to itself can move (a blocking
    // pop); one of a transaction (WATCH, then MULTI ... EXEC on that connection) cannot.
    const movable = req.retryBuf !== undefined && (via === undefined || via.single);
    if (!movable && via === undefined) return false;
    const skipped = framer.skippedError;
    // A bundle (MULTI ... EXEC sent as one write: redis/transaction.ts) one of whose commands
    // was redirected while queued: the node discarded the whole transaction (EXECABORT, multi.c
    // flagTransaction), nothing of it ran, so all of it follows the redirect.
    const r =
      parseRedirect(framer.buf, framer.start, framer.end) ??
      (skipped !== undefined ? parseRedirect(skipped, 0, skipped.length) : undefined);
    if (r === undefined) return false;
    if (movable) return this.redirect(req, r, via);
    return this.refuse(req, r, via as ReplyVia);
  }

  /**
   * A read whose node failed waits for the map to name another master. Anything else fails at
   * once: the core's own retry is for ejections (auto_eject_hosts); here it would re-send writes.
   */
  failed(req: Request, server: ServerRef, err: BackendError, retryable: boolean): boolean {
    const slot = req.slot;
    const wait = this.pool.config.cluster_failover_wait;
    if (
      slot === null ||
      !retryable ||
      wait <= 0 ||
      !req.idempotent ||
      req.retryBuf === undefined ||
      slot.owner.closed ||
      this.closed ||
      this.waiting.length >= MAX_WAITING
    )
      return false;
    this.pool.counters.cluster_failover_waits++;
    this.waiting.push({ req, server, err, deadline: Date.now() + wait });
    this.routing.refreshSoon();
    this.waitTimer ??= setTimeout(() => this.tick(), WAIT_TICK_MS);
    return true;
  }

  /**
   * The pool swapped in a table from a new map: held reads whose slot has a new master go now,
   * not at the next tick (a client's replies are in order, so one held read holds back its
   * client's later replies too).
   */
  swapped(): void {
    if (this.waiting.length === 0) return;
    clearTimeout(this.waitTimer);
    this.tick();
  }

  /** Fails every held read (the pool stops). */
  close(): void {
    this.closed = true;
    clearTimeout(this.waitTimer);
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting)
      this.pool.plane.fail(
        w.req,
        w.server,
        new BackendError("KC_BACKEND_CLOSED", w.server.label, "pool stopped"),
        false,
      );
  }

  /** Held reads whose slot has another master now go there; expired ones fail. */
  private tick(): void {
    this.waitTimer = undefined;
    const plane = this.pool.plane;
    const now = Date.now();
    const held = this.waiting;
    this.waiting = [];
    for (const w of held) {
      const req = w.req;
      const bytes = req.retryBuf as Buffer;
      const table = plane.table;
      const idx = table.picker.pick(bytes, req.keyStart, req.keyEnd);
      const target = idx >= 0 ? table.targets[idx] : undefined;
      if (req.slot?.owner.closed !== false) plane.fail(req, w.server, w.err, false);
      else if (target !== undefined && target !== w.server) this.sendAgain(req, target, false, 0);
      else if (now >= w.deadline)
        plane.fail(
          req,
          w.server,
          new BackendError(
            "KC_BACKEND_UNAVAILABLE",
            w.server.label,
            `${w.err.reason} (the cluster named no other master for its slot within cluster_failover_wait)`,
            { cause: w.err },
          ),
          false,
        );
      else this.waiting.push(w);
    }
    if (this.waiting.length > 0) {
      this.routing.refreshSoon();
      this.waitTimer = setTimeout(() => this.tick(), WAIT_TICK_MS);
    }
  }

  /**
   * Follows a -MOVED/-ASK for `req` (`via`: on a dedicated connection, so on one of the target);
   * false leaves the reply to the client.
   */
  private redirect(req: Request, r: Redirect, via: ReplyVia | undefined): boolean {
    const hops = req instanceof Redirected ? req.hops : 0;
    if (hops >= MAX_HOPS) return false;
    const target = this.follow(r);
    this.sendAgain(req, target, r.kind === "ask", hops + 1, via);
    return true;
  }

  /**
   * A redirect on a dedicated connection that holds more than this request: a transaction's
   * WATCHed keys and queued commands live on the connection to the old node and cannot span
   * nodes (cluster-spec.md "Redirection and resharding"); a value streamed through as it
   * arrived cannot be sent again. The client gets a clear error instead of a -MOVED it cannot
   * act on through a proxy; the map is followed for everything after.
   */
  private refuse(req: Request, r: Redirect, via: ReplyVia): boolean {
    const target = this.follow(r);
    this.pool.counters.cluster_tx_redirects++;
    const why = r.kind === "moved" ? "moved" : "is migrating";
    this.pool.plane.fail(
      req,
      via,
      new BackendError(
        "KC_BACKEND_UNAVAILABLE",
        via.label,
        `${why} slot ${r.slot} to ${target.label} while this connection holds a dedicated connection to it (a transaction after WATCH, or a value streamed through): that state cannot follow its keys to another node; run it again`,
      ),
      false,
    );
    return true;
  }

  /** Counts a redirect; a -MOVED points its slot at the target at once and asks for a map. */
  private follow(r: Redirect): PoolTarget {
    const routing = this.routing;
    const host = r.host !== "" ? r.host : routing.seedHost();
    const target = routing.serverAt(host, r.port);
    const counters = this.pool.counters;
    if (r.kind === "moved") {
      counters.cluster_moved++;
      const idx = this.pool.servers.indexOf(target);
      const current = routing.current;
      if (idx >= 0 && current !== undefined) current.owner[r.slot] = idx;
      routing.refreshSoon();
    } else counters.cluster_ask++;
    return target;
  }

  /**
   * Sends `req`'s bytes again to `target` as a new request of the same slot and part (to the
   * master itself: a redirect names a master, and a held read's replica may be the one gone).
   */
  private sendAgain(
    req: Request,
    target: PoolTarget,
    ask: boolean,
    hops: number,
    via?: ReplyVia,
  ): void {
    const slot = req.slot;
    if (slot === null) return;
    let bytes = req.retryBuf as Buffer;
    let expect = req.expect;
    let shift = 0;
    if (ask) {
      // ASKING must come right before the request on the same connection (cluster-spec.md
      // "ASK redirection"): any command in between clears it. So it goes into the request's
      // own bytes, as one more reply before the client's. Before a MULTI it lasts to EXEC
      // (networking.c resetClient keeps CLIENT_ASKING inside MULTI), so a bundled transaction
      // follows an -ASK too.
      bytes = Buffer.concat([ASKING, bytes]);
      expect = expectToken(expect + 1);
      shift = ASKING.length;
    }
    const again = new Redirected(slot, req.part, expect, req.silent, hops);
    again.keyStart = req.keyStart + shift;
    again.keyEnd = req.keyEnd + shift;
    again.idempotent = req.idempotent;
    again.retried = true;
    const owner = slot.owner;
    if (via !== undefined) {
      // A blocking pop stays off the shared connection on its new node too (ASKING included:
      // it is in the bytes, on the same connection).
      const err = via.again(again, target, this.pool.servers.indexOf(target), bytes);
      if (err !== undefined) this.pool.plane.fail(again, target, err, false);
    } else if (!target.send(again, owner.id, owner.channel, bytes, 0, bytes.length, true))
      this.pool.plane.fail(again, target, tooManyInFlight(target.label), false);
  }
}
