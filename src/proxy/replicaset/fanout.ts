/**
 * One memcached write sent to every member that takes writes (up or warming), with the
 * client's reply decided by merge.ts (`write: all | majority | one`). The request bytes are
 * written to each member's connection during send(), so nothing is copied up front; each
 * member's reply is copied (writes' replies are a few bytes) because the winner may be an
 * earlier member's.
 */

import assert from "node:assert";
import { BackendError } from "../../errors.js";
import { ReplyClass } from "../driver.js";
import { Request, Slot, type SlotOwner } from "../request.js";
import { tooManyInFlight } from "../server.js";
import { FAILED, WriteMerge } from "./merge.js";
import { requiredAcks, type WritePolicy } from "./policy.js";
import {
  completeOuterSilently,
  deliverOuter,
  FAILED_REPLY,
  failOuter,
  noLiveMember,
  type SetPort,
} from "./port.js";

export class FanOutWrite implements SlotOwner {
  private merge!: WriteMerge;
  private readonly replies: (Buffer | BackendError | undefined)[] = [];
  private targets: number[] = [];

  constructor(
    private readonly set: SetPort,
    private readonly outer: Request,
    readonly id: number,
    readonly channel: number,
    private readonly policy: WritePolicy,
  ) {}

  get closed(): boolean {
    return this.outer.slot === null || this.outer.slot.owner.closed;
  }

  start(buf: Buffer, start: number, end: number): void {
    const set = this.set;
    const view = set.view;
    const targets: number[] = [];
    for (let i = 0; i < view.members.length; i++) {
      const h = view.members[i].health;
      if (h === "up" || h === "warming") targets.push(i);
    }
    if (targets.length === 0) {
      failOuter(set.pool, this.outer, noLiveMember(set.name));
      return;
    }
    const required = requiredAcks(this.policy, targets.length, view.members.length);
    if (required > targets.length) {
      const reason = `has ${targets.length} of ${view.members.length} members live, a ${this.policy} write needs ${required}`;
      failOuter(
        set.pool,
        this.outer,
        new BackendError("KC_BACKEND_UNAVAILABLE", set.name, reason, {
          message: `keepcache: replica set ${set.name} ${reason}`,
        }),
      );
      return;
    }
    this.targets = targets;
    this.merge = new WriteMerge(targets, required);
    for (let k = 0; k < targets.length; k++) {
      const slot = new Slot(this);
      slot.tag = k;
      const r = new Request(slot, -1, this.outer.expect, false);
      r.retried = true;
      r.keyStart = this.outer.keyStart;
      r.keyEnd = this.outer.keyEnd;
      if (!set.members[targets[k]].send(r, this.id, this.channel, buf, start, end, false)) {
        this.replies[k] = tooManyInFlight(set.members[targets[k]].label);
        this.record(k, FAILED);
      }
    }
  }

  deliver(slot: Slot, buf: Buffer, start: number, end: number): void {
    const k = slot.tag;
    this.replies[k] = Buffer.from(buf.subarray(start, end));
    this.record(k, this.set.replyClass(buf, start, end));
  }

  complete(slot: Slot, reply: Buffer | null): void {
    const k = slot.tag;
    if (reply === FAILED_REPLY) {
      const err = this.replies[k];
      // failReply stored the member's error just before the data plane completed its slot.
      assert(err instanceof BackendError);
      this.set.memberFailed(this.targets[k], err.message);
      this.record(k, FAILED);
      return;
    }
    this.replies[k] = reply ?? Buffer.alloc(0);
    this.record(k, reply === null ? ReplyClass.Ok : this.set.replyClass(reply, 0, reply.length));
  }

  failReply(slot: Slot, err: BackendError): Buffer {
    this.replies[slot.tag] = err;
    return FAILED_REPLY;
  }

  private record(k: number, outcome: number): void {
    const w = this.merge.add(k, outcome);
    if (w < 0) return;
    const r = this.replies[w];
    const o = this.merge.outcome[w];
    if (r instanceof BackendError || r === undefined) {
      const name = this.set.name;
      failOuter(
        this.set.pool,
        this.outer,
        r ??
          new BackendError("KC_BACKEND_UNAVAILABLE", name, "failed", {
            message: `keepcache: replica set ${name} failed`,
          }),
      );
      return;
    }
    // noreply: the client sees nothing unless the winning reply is an error.
    if (this.outer.silent && o !== ReplyClass.Error) {
      completeOuterSilently(this.outer);
      return;
    }
    deliverOuter(this.outer, r, 0, r.length);
  }
}
