/** Algorithm names of the `balance:` key, each a factory for fresh rotation state. */
import { firstAvailable } from "./first.js";
import { leastConnections } from "./lc.js";
import { haproxyLeastConn } from "./leastconn.js";
import { roundRobin } from "./rr.js";
import { sourceHash } from "./sh.js";
import type { Algorithm } from "./types.js";
import { weightedLeastConnections } from "./wlc.js";
import { weightedRoundRobin } from "./wrr.js";

export type { Algorithm, Candidate, PickContext } from "./types.js";

export const ALGORITHMS = {
  rr: roundRobin,
  wrr: weightedRoundRobin,
  lc: leastConnections,
  wlc: weightedLeastConnections,
  sh: sourceHash,
  first: firstAvailable,
  leastconn: haproxyLeastConn,
} as const;

export type AlgorithmName = keyof typeof ALGORITHMS;

export function createAlgorithm(name: AlgorithmName): Algorithm {
  return ALGORITHMS[name]();
}
