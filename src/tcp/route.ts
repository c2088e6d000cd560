/**
 * The data plane's only decision: which eligible server gets a new connection, read from the
 * current routing snapshot. The eligible tiers are derived once per snapshot (not per
 * connection), so the common case (first attempt, no maxconn) does no filtering at all.
 */
import type { Algorithm, Candidate } from "./algorithms/index.js";
import type { ServerCounters } from "./counters.js";
import { effectiveWeight } from "./slowstart.js";
import type { RoutingSnapshot, ServerView } from "./snapshot.js";

/** Per-snapshot routing index. */
export interface Tiers {
  /** Up, weight > 0, not backup. */
  readonly primaries: readonly ServerView[];
  /** Up, weight > 0, backup: used only when no primary can take the connection. */
  readonly backups: readonly ServerView[];
  /** Some server has a connection limit, so fullness must be checked per connection. */
  readonly limited: boolean;
}

export function tiersOf(s: RoutingSnapshot): Tiers {
  const ok = (v: ServerView) => v.up && v.weight > 0;
  return {
    primaries: s.servers.filter((v) => ok(v) && !v.backup),
    backups: s.servers.filter((v) => ok(v) && v.backup),
    limited: s.servers.some((v) => v.maxconn > 0),
  };
}

/** Algorithms whose choice depends on open-connection counts. */
const COUNTING = new Set(["lc", "wlc", "leastconn"]);

/** Primaries not yet tried, else backups not yet tried (keepalived/HAProxy backup servers). */
export function eligible(t: Tiers, tried: ReadonlySet<string> | undefined): readonly ServerView[] {
  if (tried === undefined || tried.size === 0)
    return t.primaries.length > 0 ? t.primaries : t.backups;
  const p = t.primaries.filter((s) => !tried.has(s.id));
  return p.length > 0 ? p : t.backups.filter((s) => !tried.has(s.id));
}

/** Of the eligible servers, those below their maxconn. */
export function withFreeSlot(
  t: Tiers,
  tier: readonly ServerView[],
  counters: (id: string) => ServerCounters,
): readonly ServerView[] {
  if (!t.limited) return tier;
  return tier.filter((s) => s.maxconn === 0 || counters(s.id).active < s.maxconn);
}

/** Runs the balance algorithm over `free` (non-empty). */
export function pick(
  algo: Algorithm,
  free: readonly ServerView[],
  snap: RoutingSnapshot,
  counters: (id: string) => ServerCounters,
  clientIp: string,
  now: number,
): ServerView {
  if (free.length === 1) return free[0];
  const counting = COUNTING.has(algo.name);
  const cands: Candidate[] = new Array(free.length);
  for (let i = 0; i < free.length; i++) {
    const s = free[i];
    cands[i] = {
      id: s.id,
      weight: effectiveWeight(s.weight, s.upSince, snap.slowstartMs, now),
      active: counting ? counters(s.id).active : 0,
    };
  }
  return free[algo.pick(cands, { clientIp })];
}
