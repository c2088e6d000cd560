/**
 * What a worker process's control planes (worker-pool.ts, cluster-follower.ts) answer for the
 * primary's decisions: every server is in (ejection, health and the operator's state are the
 * primary's, and its tables already say who is out), and an operator action is refused.
 */
import type { TargetState } from "../control.js";
import type { FromWorker } from "./ipc.js";

export const ALL_IN: Readonly<TargetState> = Object.freeze({
  ejectedUntil: 0,
  ejectTimer: undefined,
  healthDown: false,
  adminState: "enabled",
  weightOverride: undefined,
});

export function decidedByPrimary(): never {
  throw new Error("a worker process's pool follows the primary: act on the primary's");
}

/** The worker pool a follower reports for (its name and gen, and the IPC send). */
export interface FollowerOwner {
  readonly name: string;
  readonly gen: number;
  readonly send: ((m: FromWorker) => void) | undefined;
}
