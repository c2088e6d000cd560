/**
 * What a replica-set request (op.ts, fanout.ts) needs from its set (set.ts), and how it hands
 * its final outcome to the request the pool routed (the same steps as the data plane's settle
 * and fail, dispatch.ts, which it stands in for).
 */
import { BackendError } from "../../errors.js";
import type { ProxyPoolCounters } from "../../metrics/table.js";
import type { ReplyClass, SetBehaviour } from "../driver.js";
import type { Request } from "../request.js";
import type { BackendServer } from "../server.js";
import type { ReadPicker } from "./pick.js";
import type { SetView } from "./view.js";

export interface Parked {
  /** A new view (or a finished rediscovery): try again. */
  resume(): void;
  /** Held too long. */
  expire(err: BackendError): void;
}

/** What a set's request needs of its pool. */
export interface SetOpPool {
  readonly counters: ProxyPoolCounters;
}

export interface SetPort {
  readonly name: string;
  /** The set's pool: its counters count the failures of the set's requests. */
  readonly pool: SetOpPool;
  readonly members: readonly BackendServer[];
  readonly view: SetView;
  readonly picker: ReadPicker;
  readonly readMissFailover: boolean;
  /** The protocol's behaviour in a set (driver.ts SetBehaviour). */
  readonly behaviour: SetBehaviour;
  /** The class of a member's reply (the driver's). */
  replyClass(buf: Buffer, start: number, end: number): ReplyClass;
  /** A member failed a request (connection error, timeout): the control plane reacts. */
  memberFailed(i: number, reason: string): void;
  /** A reply said the roles changed (-READONLY ...): ask every member again, now. */
  rediscover(reason: string): void;
  /** Hold an op until the view changes; false when the hold queue is full. */
  park(op: Parked): boolean;
}

/** No member of set `name` can take the request now. */
export function noLiveMember(name: string): BackendError {
  return new BackendError("KC_BACKEND_UNAVAILABLE", name, "has no live member", {
    message: `keepcache: no live member in replica set ${name}`,
  });
}

/** Marker returned by failReply so complete() can tell a failure from a reply. */
export const FAILED_REPLY = Buffer.from("keepcache-member-failed");

/** The outer request gets a reply (bytes valid only during the call). */
export function deliverOuter(outer: Request, buf: Buffer, start: number, end: number): void {
  const slot = outer.slot;
  if (slot === null) return;
  const owner = slot.owner;
  if (outer.part >= 0) {
    if (!owner.closed && slot.merger !== null)
      slot.merger.add(outer.part, Buffer.from(buf.subarray(start, end)));
    if (--slot.pending === 0) owner.complete(slot, null);
    return;
  }
  owner.deliver(slot, buf, start, end);
}

/** The outer request is done with nothing to show (a silent request's dropped reply). */
export function completeOuterSilently(outer: Request): void {
  const slot = outer.slot;
  if (slot === null) return;
  if (outer.part >= 0) {
    if (--slot.pending === 0) slot.owner.complete(slot, null);
    return;
  }
  slot.owner.complete(slot, null);
}

/** The outer request failed: the driver's error naming the set and the reason. */
export function failOuter(pool: SetOpPool, outer: Request, err: BackendError): void {
  const slot = outer.slot;
  if (slot === null) return;
  pool.counters.forward_error++;
  if (outer.part >= 0) {
    slot.merger?.fail(outer.part, err.message);
    if (--slot.pending === 0) slot.owner.complete(slot, null);
    return;
  }
  const reply = slot.owner.failReply(slot, err);
  if (reply.length === 0) pool.counters.silent_errors_dropped++;
  slot.owner.complete(slot, reply);
}
