/**
 * Choosing the replica to promote, as Redis Sentinel does (sentinel.c
 * sentinelSelectSlave / compareSlavesForPromotion): replicas with priority 0 are never
 * chosen; then the lowest replica-priority, then the highest replication offset (the most
 * data), then the lexicographically smallest run id.
 */
import type { ReplicaFacts } from "./info.js";

export function electReplica(candidates: readonly ReplicaFacts[]): ReplicaFacts | undefined {
  let best: ReplicaFacts | undefined;
  for (const c of candidates) {
    if (c.priority === 0) continue;
    if (best === undefined || better(c, best)) best = c;
  }
  return best;
}

function better(a: ReplicaFacts, b: ReplicaFacts): boolean {
  if (a.priority !== b.priority) return a.priority < b.priority;
  if (a.offset !== b.offset) return a.offset > b.offset;
  return a.runId < b.runId;
}

/** Witnesses confirm a master's death when a strict majority of its replicas lost the link. */
export function witnessesConfirm(replicas: number, reportingDown: number): boolean {
  if (replicas === 0) return true;
  return reportingDown >= Math.floor(replicas / 2) + 1;
}
