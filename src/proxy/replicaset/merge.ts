/**
 * Merging the replies of one memcached write sent to several members (`write: all | majority
 * | one`), as mcrouter's AllSyncRoute / AllMajorityRoute / AllInitialRoute. Pure: fed each
 * member's outcome, it says when the client's reply is decided and which member's reply it is.
 *
 * Which reply wins:
 * - As soon as `required` members answered Ok (STORED, DELETED, TOUCHED, a number, HD, ...),
 *   the client gets the Ok reply of the member EARLIEST IN THE SET'S MEMBER ORDER among those
 *   that answered Ok so far (the primary's when it is among them). Replies arriving later are
 *   dropped.
 * - When the quorum can no longer be reached, the client gets the WORST reply (mcrouter
 *   AllSync "the worst reply wins"): failure (connection/timeout) > Error (SERVER_ERROR, ...)
 *   > Refused (NOT_STORED / EXISTS / NOT_FOUND) > Ok; among equally bad replies, the earliest
 *   member's.
 */
import assert from "node:assert";
import { ReplyClass } from "../driver.js";

/** Outcome severity for "worst wins": a failure ranks above every reply class. */
export const FAILED = 5;

function severity(c: number): number {
  return c === ReplyClass.RoleChange ? ReplyClass.Error : c;
}

export class WriteMerge {
  /** Per member slot: outcome class (-1 pending), FAILED for a failure. */
  readonly outcome: number[];
  private oks = 0;
  private pending: number;
  decided = false;

  constructor(
    /** Member indices the write was sent to, in set order. */
    readonly members: readonly number[],
    readonly required: number,
  ) {
    assert(required >= 1, "a write needs at least one acknowledgement");
    this.outcome = members.map(() => -1);
    this.pending = members.length;
  }

  /**
   * Records member slot `k`'s outcome (a ReplyClass or FAILED). Returns the slot whose reply
   * the client gets when this outcome decides the write, else -1.
   */
  add(k: number, outcome: number): number {
    assert(this.outcome[k] === -1, "one outcome per member");
    this.outcome[k] = outcome;
    this.pending--;
    if (this.decided) return -1;
    if (outcome === ReplyClass.Ok || outcome === ReplyClass.Miss) this.oks++;
    if (this.oks >= this.required) {
      this.decided = true;
      for (let j = 0; j < this.outcome.length; j++) {
        const o = this.outcome[j];
        if (o === ReplyClass.Ok || o === ReplyClass.Miss) return j;
      }
    }
    if (this.oks + this.pending < this.required) {
      this.decided = true;
      let worst = -1;
      for (let j = 0; j < this.outcome.length; j++) {
        const o = this.outcome[j];
        if (o < 0) continue;
        if (worst < 0 || severity(o) > severity(this.outcome[worst])) worst = j;
      }
      return worst;
    }
    return -1;
  }

  get done(): boolean {
    return this.pending === 0;
  }
}
