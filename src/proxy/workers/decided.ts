/**
 * What a worker process's control planes (worker-pool.ts, cluster-follower.ts) answer for the
 * primary's decisions: every server is in (ejection, health and the operator's state are the
 * primary's, and its tables already say who is out), and an operator action is refused. Both
 * extend DecidedByPrimary for these members.
 */
import type { TargetState } from "../control.js";
import type { PoolControlPlane } from "../pool.js";
import type { FromWorker } from "./ipc.js";

const ALL_IN: Readonly<TargetState> = Object.freeze({
  ejectedUntil: 0,
  ejectTimer: undefined,
  healthDown: false,
  adminState: "enabled",
  weightOverride: undefined,
});

function decidedByPrimary(): never {
  throw new Error("a worker process's pool follows the primary: act on the primary's");
}

/** The PoolControlPlane members a follower leaves to the primary. */
export abstract class DecidedByPrimary
  implements
    Pick<PoolControlPlane, "state" | "subscribe" | "drain" | "disable" | "enable" | "setWeight">
{
  state(): Readonly<TargetState> {
    return ALL_IN;
  }
  subscribe(): () => void {
    return () => {};
  }
  drain(): void {
    decidedByPrimary();
  }
  disable(): void {
    decidedByPrimary();
  }
  enable(): void {
    decidedByPrimary();
  }
  setWeight(): void {
    decidedByPrimary();
  }
}

/** The worker pool a follower reports for (its name and gen, and the IPC send). */
export interface FollowerOwner {
  readonly name: string;
  readonly gen: number;
  readonly send: ((m: FromWorker) => void) | undefined;
}
