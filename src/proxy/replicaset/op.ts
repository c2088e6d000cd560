/**
 * One request served by ONE member of a replica set at a time: a read (by the read policy,
 * failing over to the next member on an error or timeout, and on a miss with
 * `read_miss_failover`), or a write to the set's single write target (Redis master,
 * memcached primary of replicating keepcache nodes).
 *
 * It stands between the pool and the member: the member's reply arrives here (this op is the
 * inner slot's owner) and is passed to the client's slot, or the op tries elsewhere. Retrying
 * a write is safe only when it cannot have run twice: the member refused the connection (the
 * bytes were never sent), or replied -READONLY/-MASTERDOWN/-LOADING (not executed), or the
 * Plan says idempotent.
 */

import assert from "node:assert";
import { BackendError } from "../../errors.js";
import { ReplyClass } from "../driver.js";
import { Request, Slot, type SlotOwner } from "../request.js";
import { tooManyInFlight } from "../server.js";
import {
  completeOuterSilently,
  deliverOuter,
  FAILED_REPLY,
  failOuter,
  noLiveMember,
  type Parked,
  type SetPort,
} from "./port.js";
import type { SetView } from "./view.js";

/** Sends of one write after the first (rediscovery rounds). */
const MAX_WRITE_RETRIES = 3;

export class SingleOp implements SlotOwner, Parked {
  private tried = 0;
  private member = -1;
  /** The request bytes, kept for another member (a view into the first member's buffer). */
  private bytes: Buffer | undefined;
  private saved: Buffer | undefined;
  private retries = 0;
  /** Why the last member failed the request; undefined before one did. */
  private failure: BackendError | undefined = undefined;
  private finished = false;

  constructor(
    private readonly set: SetPort,
    private readonly outer: Request,
    readonly id: number,
    readonly channel: number,
    private readonly read: boolean,
  ) {}

  get closed(): boolean {
    return this.outer.slot === null || this.outer.slot.owner.closed;
  }

  start(buf: Buffer, start: number, end: number): void {
    if (!this.dispatch(buf, start, end)) return;
  }

  /** Sends to the next member; false when the op finished or parked instead. */
  private dispatch(buf: Buffer, start: number, end: number): boolean {
    const set = this.set;
    for (;;) {
      const view = set.view;
      const m = this.read ? set.picker.pick(view, this.tried) : view.writeTarget;
      if (m < 0) {
        if (!this.read) return this.park(buf, start, end);
        this.finish(this.failure ?? noLiveMember(set.name));
        return false;
      }
      const inner = this.inner();
      if (set.members[m].send(inner, this.id, this.channel, buf, start, end, true)) {
        this.member = m;
        set.picker.outstanding[m]++;
        if (this.bytes === undefined) this.bytes = inner.retryBuf;
        return true;
      }
      this.tried |= 1 << m;
      this.failure = tooManyInFlight(set.members[m].label);
      if (!this.read) {
        this.finish(this.failure);
        return false;
      }
    }
  }

  private inner(): Request {
    const o = this.outer;
    const slot = new Slot(this);
    const silent = o.part < 0 && o.silent;
    if (o.slot !== null) slot.tag = o.slot.tag;
    slot.silent = silent;
    const r = new Request(slot, -1, o.expect, silent);
    // The pool's own retry must not run: this op decides where a retry goes.
    r.retried = true;
    r.keyStart = o.keyStart;
    r.keyEnd = o.keyEnd;
    return r;
  }

  private park(buf: Buffer, start: number, end: number): boolean {
    if (this.bytes === undefined) this.bytes = Buffer.from(buf.subarray(start, end));
    if (!this.set.park(this)) {
      const name = this.set.name;
      this.finish(
        new BackendError("KC_BACKEND_OVERLOADED", name, "has no master and too many held writes", {
          message: `keepcache: replica set ${name} has no master and too many held writes`,
        }),
      );
    }
    return false;
  }

  resume(): void {
    if (this.finished) return;
    if (this.closed) {
      this.finished = true;
      return;
    }
    const b = this.bytes as Buffer;
    this.dispatch(b, 0, b.length);
  }

  expire(err: BackendError): void {
    if (!this.finished) this.finish(err);
  }

  private again(): void {
    const b = this.bytes;
    if (b === undefined || this.closed) {
      this.finish(this.failure ?? noLiveMember(this.set.name));
      return;
    }
    this.dispatch(b, 0, b.length);
  }

  // ---- SlotOwner: the member's outcome ----

  deliver(_slot: Slot, buf: Buffer, start: number, end: number): void {
    this.onReply(buf, start, end);
  }

  complete(_slot: Slot, reply: Buffer | null): void {
    if (reply === FAILED_REPLY) {
      this.onFailure();
      return;
    }
    if (reply === null) {
      this.done();
      if (!this.finished) {
        this.finished = true;
        completeOuterSilently(this.outer);
      }
      return;
    }
    this.onReply(reply, 0, reply.length);
  }

  failReply(_slot: Slot, err: BackendError): Buffer {
    this.failure = err;
    return FAILED_REPLY;
  }

  private done(): void {
    if (this.member >= 0) this.set.picker.outstanding[this.member]--;
  }

  private onReply(buf: Buffer, start: number, end: number): void {
    this.done();
    const set = this.set;
    const m = this.member;
    const cls = set.replyClass(buf, start, end);
    if (this.read) {
      const retry =
        cls === ReplyClass.RoleChange ||
        (cls === ReplyClass.Error && set.behaviour.retryReadErrors) ||
        (cls === ReplyClass.Miss && set.readMissFailover);
      if (retry && !this.closed) {
        if (cls === ReplyClass.RoleChange)
          set.rediscover(`${set.members[m].label} answered a read with a role error`);
        // Keep this reply: it is the answer when no other member does better.
        this.saved = Buffer.from(buf.subarray(start, end));
        this.tried |= 1 << m;
        if (set.picker.pick(set.view, this.tried) >= 0) {
          this.again();
          return;
        }
      }
      this.finished = true;
      deliverOuter(this.outer, buf, start, end);
      return;
    }
    if (cls === ReplyClass.RoleChange && this.retries < MAX_WRITE_RETRIES && !this.closed) {
      // Not executed (READONLY / MASTERDOWN / LOADING): find the master and send it there.
      this.retries++;
      const label = set.members[m].label;
      const said = buf.toString("latin1", start + 1, Math.min(end, start + 80)).trim();
      this.failure = new BackendError("KC_BACKEND_UNAVAILABLE", label, said, {
        message: `keepcache: ${label} ${said}`,
      });
      set.rediscover(`${set.members[m].label} refused a write with a role error`);
      this.park(buf, start, end);
      return;
    }
    if (set.behaviour.fenceAcks && demoted(set.view, m) && cls !== ReplyClass.RoleChange) {
      // The member was demoted while this write was in flight: its acknowledgement means
      // nothing (the demoted master's data is discarded when it resyncs), so never pass it on.
      const label = set.members[m].label;
      const reason = "was demoted while the write was in flight; its outcome is unknown";
      this.failure = new BackendError("KC_BACKEND_UNAVAILABLE", label, reason, {
        message: `keepcache: ${label} ${reason}`,
      });
      if (this.outer.idempotent && this.retries < MAX_WRITE_RETRIES) {
        this.retries++;
        this.again();
        return;
      }
      this.finish(this.failure);
      return;
    }
    this.finished = true;
    deliverOuter(this.outer, buf, start, end);
  }

  /** The member failed the request (failReply stored why just before). */
  private onFailure(): void {
    this.done();
    const set = this.set;
    const m = this.member;
    const err = this.failure;
    assert(err !== undefined);
    set.memberFailed(m, err.message);
    if (this.closed) {
      this.finish(err);
      return;
    }
    if (this.read) {
      this.tried |= 1 << m;
      if (set.picker.pick(set.view, this.tried) >= 0) {
        this.again();
        return;
      }
      if (this.saved !== undefined) {
        this.finished = true;
        deliverOuter(this.outer, this.saved, 0, this.saved.length);
        return;
      }
      this.finish(err);
      return;
    }
    // A refused connection never carried the bytes: the write did not run anywhere.
    const safe = this.outer.idempotent || refused(err);
    if (safe && this.retries < MAX_WRITE_RETRIES) {
      this.retries++;
      this.again();
      return;
    }
    this.finish(err);
  }

  private finish(err: BackendError): void {
    if (this.finished) return;
    this.finished = true;
    failOuter(this.set.pool, this.outer, err);
  }
}

/**
 * Whether member m lost the master role: the view names another write target, or none while m
 * is no longer a healthy master. Writes held during a manual failover's drain (no write target,
 * m still the healthy master) are not a demotion: their acknowledgements are real, and the
 * failover waits for them and for the replicas to catch up before it switches.
 */
function demoted(view: SetView, m: number): boolean {
  if (view.writeTarget === m) return false;
  if (view.writeTarget !== -1) return true;
  const mv = view.members[m];
  return mv === undefined || mv.role !== "master" || mv.health !== "up";
}

/** The member refused the connection (ECONNREFUSED): the request's bytes never left. */
function refused(err: BackendError): boolean {
  const cause = err.cause;
  return cause instanceof Error && (cause as NodeJS.ErrnoException).code === "ECONNREFUSED";
}
