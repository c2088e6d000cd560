/**
 * Which member serves a read, by the set's `read:` policy:
 *   memcached: primary | round-robin | weighted | least-outstanding
 *   Redis:     master | replica | prefer-replica | any   (weighted within the candidates, as
 *              seed 001's LVS wrr over master and slaves)
 * A read that fails (error, timeout, optionally a miss) asks again with the members already
 * tried excluded, so it walks every eligible member once.
 *
 * Weighted choice is nginx's smooth weighted round-robin (ngx_http_upstream_round_robin.c):
 * deterministic, exact proportions over every sum-of-weights picks, interleaved.
 */
import type { ReadPolicy } from "./policy.js";
import type { SetView } from "./view.js";

export class ReadPicker {
  private rr = 0;
  private readonly current: number[];
  /** Requests in flight per member (least-outstanding). */
  readonly outstanding: number[];

  constructor(
    private readonly policy: ReadPolicy,
    size: number,
  ) {
    this.current = new Array(size).fill(0);
    this.outstanding = new Array(size).fill(0);
  }

  /** A member index for a read, or -1 when no eligible member is left. `tried` is a bit mask. */
  pick(view: SetView, tried: number): number {
    const p = this.policy;
    const wt = view.writeTarget;
    switch (p) {
      case "primary":
      case "master": {
        if (wt >= 0 && readable(view, wt, tried)) return wt;
        // memcached primary: the next member in order; Redis master: a replica rather than fail.
        return this.first(view, tried, -1);
      }
      case "round-robin": {
        const n = view.members.length;
        for (let k = 0; k < n; k++) {
          const i = (this.rr + k) % n;
          if (readable(view, i, tried)) {
            this.rr = i + 1;
            return i;
          }
        }
        return -1;
      }
      case "least-outstanding": {
        let best = -1;
        for (let i = 0; i < view.members.length; i++) {
          if (!readable(view, i, tried)) continue;
          if (best < 0 || this.outstanding[i] < this.outstanding[best]) best = i;
        }
        return best;
      }
      case "weighted":
      case "any":
        return this.smooth(view, tried, -1);
      case "replica":
        // Replicas only: with none left the read fails (use prefer-replica to fall back).
        return this.smooth(view, tried, wt);
      case "prefer-replica": {
        const r = this.smooth(view, tried, wt);
        return r >= 0 ? r : wt >= 0 && readable(view, wt, tried) ? wt : -1;
      }
    }
  }

  private first(view: SetView, tried: number, skip: number): number {
    for (let i = 0; i < view.members.length; i++)
      if (i !== skip && readable(view, i, tried)) return i;
    return -1;
  }

  private smooth(view: SetView, tried: number, skip: number): number {
    let total = 0;
    let best = -1;
    for (let i = 0; i < view.members.length; i++) {
      if (i === skip || !readable(view, i, tried)) continue;
      const w = view.members[i].weight;
      this.current[i] += w;
      total += w;
      if (best < 0 || this.current[i] > this.current[best]) best = i;
    }
    if (best >= 0) this.current[best] -= total;
    return best;
  }
}

function readable(view: SetView, i: number, tried: number): boolean {
  return (tried & (1 << i)) === 0 && view.members[i].health === "up";
}
