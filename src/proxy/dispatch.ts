/**
 * A pool's data plane (twemproxy nc_request.c / nc_response.c): each Plan is routed by the
 * current RoutingTable (router.ts) to the servers and replica sets the table holds, replies are
 * settled into the client's slots, and failed requests are retried once or failed by name. A
 * pool (pool.ts) owns one, in the primary as in a worker process; its control plane only
 * swaps `table`. Clients, servers and their connections keep a reference to it, so every call
 * on the request path has one receiver class.
 *
 * Retries (a failed request is retried once on the server that owns the
 * key now, with auto_eject_hosts): a forward or a one-key part is re-sent from the bytes its
 * connection kept (Request.retryBuf), re-hashing its key (Request.hashKey when the hashed bytes
 * are not in the frame, meta flag b). A split part of several keys is re-planned by its merger
 * (driver.ts Merger.replan): after an ejection its keys may belong to several servers, as
 * twemproxy's rehash moves each key on its own. A request is retried at most once.
 */
import type { PoolConfig } from "../config/index.js";
import { BackendError } from "../errors.js";
import type { Logger } from "../log.js";
import type { ProxyPoolCounters } from "../metrics/table.js";
import type { ClientConn, RequestRouter } from "./client.js";
import { routeDedicated } from "./dedicated.js";
import type { Plan, ReplyFramer, SplitPart } from "./driver.js";
import type { ReplyHook, ReplySink, ReplyVia, ServerRef } from "./reply-sink.js";
import { Request, type Slot } from "./request.js";
import type { RoutingTable } from "./router.js";
import { tooManyInFlight } from "./server.js";
import type { PoolTarget } from "./target.js";

export class DataPlane implements ReplySink, RequestRouter {
  /** Swapped whole by the pool's control plane (never mutated). */
  table!: RoutingTable<PoolTarget>;
  /** The pool's current config (auto_eject_hosts, the pool name in messages). */
  config!: PoolConfig;
  /** Sees replies and failures first (a Redis Cluster pool: reply-sink.ts ReplyHook). */
  private hook: ReplyHook | undefined = undefined;
  /** Every request keeps its sent bytes for the hook (ReplyHook.keepSent). */
  private keepSent = false;

  constructor(
    /** The pool's counters (twemproxy's per-pool stats). */
    readonly counters: ProxyPoolCounters,
    private readonly log: Logger,
  ) {}

  get name(): string {
    return this.config.name;
  }

  /** Installs the pool's reply hook (once, when the pool is made). */
  setHook(hook: ReplyHook | undefined): void {
    this.hook = hook;
    this.keepSent = hook?.keepSent === true;
  }

  route(client: ClientConn, slot: Slot, plan: Plan): void {
    switch (plan.kind) {
      case "local":
        slot.close = plan.close === true;
        client.complete(slot, plan.reply);
        return;
      case "forward": {
        slot.silent = plan.silent;
        slot.tag = plan.tag ?? 0;
        const hk = plan.hashKey;
        const table = this.table;
        const idx =
          hk === undefined
            ? table.picker.pick(plan.buf, plan.keyStart, plan.keyEnd)
            : table.picker.pick(hk, 0, hk.length);
        if (idx < 0) {
          this.noServer(client, slot);
          return;
        }
        const target = table.targets[idx];
        const req = new Request(slot, -1, plan.expect, plan.silent);
        const retry = (plan.idempotent && this.config.auto_eject_hosts) || this.keepSent;
        if (hk !== undefined && retry) {
          // The parser's scratch is reused by its next request: a retry needs its own copy.
          req.hashKey = Buffer.from(hk);
          req.keyEnd = hk.length;
        } else {
          // The key keeps its offset relative to the frame in a rewrite (driver contract).
          req.keyStart = plan.keyStart - plan.frameStart;
          req.keyEnd = plan.keyEnd - plan.frameStart;
        }
        req.readOnly = plan.readOnly;
        req.idempotent = plan.idempotent;
        // The driver's connection class (driver.ts Conn), or a client holding a dedicated one.
        if (
          (plan.conn !== 0 || client.lease !== null) &&
          routeDedicated(client, slot, plan, idx, req, target)
        )
          return;
        const ok =
          plan.rewrite !== undefined
            ? target.send(
                req,
                client.id,
                client.channel,
                plan.rewrite,
                0,
                plan.rewrite.length,
                retry,
              )
            : target.send(
                req,
                client.id,
                client.channel,
                plan.buf,
                plan.frameStart,
                plan.frameEnd,
                retry,
              );
        if (!ok) this.refuse(slot, target);
        return;
      }
      case "broadcast": {
        slot.silent = plan.silent;
        slot.tag = plan.tag ?? 0;
        slot.merger = plan.merge;
        const table = this.table;
        const live = table.targets.filter((_, i) => table.servers[i].live);
        if (live.length === 0) {
          this.noServer(client, slot);
          return;
        }
        slot.pending = live.length;
        live.forEach((s, i) => {
          const req = new Request(slot, i, plan.expect, plan.silent);
          req.readOnly = plan.readOnly;
          if (!s.send(req, client.id, client.channel, plan.request, 0, plan.request.length, false))
            this.failRequest(req, s, tooManyInFlight(s.label), false);
        });
        return;
      }
      case "split": {
        slot.silent = plan.silent;
        slot.tag = plan.tag ?? 0;
        slot.merger = plan.merge;
        slot.pending = plan.parts.length;
        this.counters.fragments += plan.parts.length;
        const retry = this.config.auto_eject_hosts;
        // A merger that re-plans a failed part rebuilds its bytes: none are kept for it.
        const replan = retry && plan.merge.replan !== undefined;
        for (let i = 0; i < plan.parts.length; i++) {
          const p = plan.parts[i];
          const req = new Request(slot, i, plan.expect, plan.silent);
          req.idempotent = replan;
          req.readOnly = plan.readOnly;
          const keep = (retry && !replan && p.keyBuf === p.request) || this.keepSent;
          this.sendPart(req, p, keep, undefined, undefined);
        }
        return;
      }
    }
  }

  /**
   * Routes split part `req` (its slot's pending count already includes it). A part whose
   * owner is `failed` (a re-planned part whose key did not move) fails with `why`.
   */
  private sendPart(
    req: Request,
    p: SplitPart,
    keep: boolean,
    failed: object | undefined,
    why: BackendError | undefined,
  ): boolean {
    const table = this.table;
    const idx = table.picker.pick(p.keyBuf, p.keyStart, p.keyEnd);
    if (idx < 0 || table.targets[idx] === failed) {
      this.counters.forward_error++;
      this.partFailed(req, idx < 0 || why === undefined ? this.noLiveServer() : why);
      return false;
    }
    const s = table.targets[idx];
    const owner = (req.slot as Slot).owner;
    req.keyStart = p.keyStart;
    req.keyEnd = p.keyEnd;
    if (!s.send(req, owner.id, owner.channel, p.request, 0, p.request.length, keep)) {
      this.failRequest(req, s, tooManyInFlight(s.label), false);
      return false;
    }
    return true;
  }

  /** The table routes the key nowhere: every server of its shard is out. */
  private noLiveServer(): BackendError {
    return new BackendError("KC_BACKEND_UNAVAILABLE", this.name, "has no live server", {
      message: `keepcache: no live server in pool ${this.name}`,
    });
  }

  private noServer(client: ClientConn, slot: Slot): void {
    this.counters.forward_error++;
    client.complete(slot, client.failReply(slot, this.noLiveServer()));
  }

  private refuse(slot: Slot, s: PoolTarget): void {
    this.counters.forward_error++;
    slot.owner.complete(slot, slot.owner.failReply(slot, tooManyInFlight(s.label)));
  }

  /** A reply for `req` is framed in `framer` (`via`: on a dedicated connection). */
  settle(req: Request, framer: ReplyFramer, via?: ReplyVia): void {
    if (this.hook?.settle(req, framer, via) === true) return;
    const slot = req.slot;
    if (slot === null) {
      if (framer.isError)
        this.log.warn(
          {
            pool: this.name,
            reply: framer.buf.toString(
              "latin1",
              framer.start,
              Math.min(framer.end, framer.start + 200),
            ),
          },
          "backend rejected the connection handshake",
        );
      return;
    }
    const owner = slot.owner;
    if (req.part >= 0) {
      if (!owner.closed && slot.merger !== null)
        slot.merger.add(req.part, Buffer.from(framer.buf.subarray(framer.start, framer.end)));
      if (--slot.pending === 0) owner.complete(slot, null);
      return;
    }
    if (req.silent && framer.droppable) {
      if (framer.isError) this.counters.silent_errors_dropped++;
      owner.complete(slot, null);
      return;
    }
    owner.deliver(slot, framer.buf, framer.start, framer.end);
  }

  private partFailed(req: Request, err: BackendError): void {
    const slot = req.slot;
    if (slot === null) return;
    slot.merger?.fail(req.part, err.message);
    if (--slot.pending === 0) slot.owner.complete(slot, null);
  }

  /**
   * `req` could not be served by `server`: the pool's reply hook may take it; else it fails
   * (fail), retried only without a hook.
   */
  failRequest(req: Request, server: ServerRef, err: BackendError, retryable: boolean): void {
    const hook = this.hook;
    if (hook === undefined) this.fail(req, server, err, retryable);
    else if (!hook.failed(req, server, err, retryable)) this.fail(req, server, err, false);
  }

  /**
   * `req` could not be served by `server` (the hook not asked). With auto_eject_hosts an
   * idempotent request is sent once more, to the server that owns its key in the current table
   * (after an ejection: another).
   */
  fail(req: Request, server: ServerRef, err: BackendError, retryable: boolean): void {
    const slot = req.slot;
    if (slot === null) return;
    if (retryable && !req.retried && !slot.owner.closed) {
      if (req.retryBuf !== undefined) {
        if (this.resend(req, req.retryBuf, server)) return;
      } else if (req.part >= 0 && req.idempotent && this.replanPart(req, slot, server, err)) return;
    }
    this.counters.forward_error++;
    if (req.part >= 0) {
      this.partFailed(req, err);
      return;
    }
    const reply = slot.owner.failReply(slot, err);
    if (reply.length === 0) this.counters.silent_errors_dropped++;
    slot.owner.complete(slot, reply);
  }

  /** The retry of a forward or a one-key part from its sent bytes; false when not sent. */
  private resend(req: Request, bytes: Buffer, server: object): boolean {
    const slot = req.slot as Slot;
    const table = this.table;
    const idx = table.picker.pick(req.hashKey ?? bytes, req.keyStart, req.keyEnd);
    const target = idx >= 0 ? table.targets[idx] : undefined;
    if (target === undefined || target === server) return false;
    const again = new Request(slot, req.part, req.expect, req.silent);
    again.retried = true;
    again.hashKey = req.hashKey;
    again.keyStart = req.keyStart;
    again.keyEnd = req.keyEnd;
    again.readOnly = req.readOnly;
    again.idempotent = req.idempotent;
    if (!target.send(again, slot.owner.id, slot.owner.channel, bytes, 0, bytes.length, false))
      return false;
    this.counters.retries++;
    return true;
  }

  /**
   * The retry of a split part: its merger regroups its keys under the current table and each
   * group is sent as a part of its own (never again to `server`). False when the merger cannot
   * re-plan it; the part then fails as it is.
   */
  private replanPart(req: Request, slot: Slot, server: object, err: BackendError): boolean {
    const merger = slot.merger;
    if (merger === null || merger.replan === undefined) return false;
    const plan = merger.replan(req.part, this.table.picker);
    if (plan === undefined) return false;
    const n = plan.parts.length;
    // The failed part keeps its count until every new part is routed, so no part failing on
    // the way can complete the slot early.
    slot.pending += n;
    this.counters.fragments += n;
    let sent = 0;
    for (let k = 0; k < n; k++) {
      const again = new Request(slot, plan.first + k, req.expect, req.silent);
      again.retried = true;
      again.idempotent = true;
      again.readOnly = req.readOnly;
      if (this.sendPart(again, plan.parts[k], false, server, err)) sent++;
    }
    if (sent > 0) this.counters.retries++;
    if (--slot.pending === 0) slot.owner.complete(slot, null);
    return true;
  }
}
