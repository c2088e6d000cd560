/**
 * The immutable state of one replica set as the data plane routes by it (router.ts: the
 * control plane builds a new view and swaps it; a request reads `set.view` once). A failover is
 * exactly one swap: a view names at most ONE write target, so two masters of a set can never
 * both take writes through keepcache (no split brain).
 */
import assert from "node:assert";

/**
 * - up: serves reads (and writes when it is the write target).
 * - down: unreachable or failing; gets nothing.
 * - warming: back after a failure; gets writes (so it misses none) but no reads until warm.
 * - fenced: a demoted master not yet verified as a replica of the new one; gets nothing.
 */
export type MemberHealth = "up" | "down" | "warming" | "fenced";
export type MemberRole = "master" | "replica" | "unknown";

export interface MemberView {
  readonly health: MemberHealth;
  readonly role: MemberRole;
  readonly weight: number;
}

export interface SetView {
  readonly version: number;
  /** Index of the one member writes go to (Redis master, memcached primary); -1: none now. */
  readonly writeTarget: number;
  readonly members: readonly MemberView[];
  /** Why the view changed last ("failover", "+switch-master", "member down", ...). */
  readonly reason: string;
}

export function initialView(
  members: ReadonlyArray<{ role: "master" | "replica" | "any"; weight: number }>,
  writeTarget: number,
): SetView {
  return {
    version: 1,
    writeTarget,
    reason: "start",
    members: members.map((m, i) => ({
      health: "up",
      role: i === writeTarget ? "master" : m.role === "any" ? "unknown" : "replica",
      weight: m.weight,
    })),
  };
}

/** A new view with some members changed; checks the one-write-target invariant. */
export function nextView(
  v: SetView,
  reason: string,
  change: { writeTarget?: number; members?: Record<number, Partial<MemberView>> },
): SetView {
  const members = v.members.map((m, i) => {
    const c = change.members?.[i];
    return c ? { ...m, ...c } : m;
  });
  const writeTarget = change.writeTarget ?? v.writeTarget;
  assert(writeTarget >= -1 && writeTarget < members.length, "write target out of range");
  // A fenced or down member is never the write target (no write reaches a demoted master).
  if (writeTarget >= 0) {
    const h = members[writeTarget].health;
    assert(h === "up" || h === "warming", `write target is ${h}`);
  }
  return { version: v.version + 1, writeTarget, members, reason };
}

export function sameView(a: SetView, b: SetView): boolean {
  if (a.writeTarget !== b.writeTarget || a.members.length !== b.members.length) return false;
  for (let i = 0; i < a.members.length; i++) {
    const x = a.members[i];
    const y = b.members[i];
    if (x.health !== y.health || x.role !== y.role || x.weight !== y.weight) return false;
  }
  return true;
}
