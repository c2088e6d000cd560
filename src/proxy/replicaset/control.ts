/**
 * The seam between a replica set (set.ts, data plane) and what drives its view (a control
 * plane). The proxy declares both sides here and never builds a controller itself: the process
 * that runs the proxy injects a factory (PoolDeps.setControllers). The primary process injects
 * src/failover/'s controllers (memcached member monitor, Redis ROLE tracking and failover);
 * a worker process injects one that forwards the data path's signals to the primary.
 */
import type { ReplicaSetConfig } from "../../config/index.js";
import type { Logger } from "../../log.js";
import type { BackendServer } from "../server.js";
import type { SetEvents } from "./events.js";
import type { SetView } from "./view.js";

/** What drives a set's view. */
export interface SetController {
  start(): void;
  stop(): void;
  /** A member failed a request (connection error, timeout). */
  memberFailed(i: number, reason: string): void;
  /** A reply said the roles changed (-READONLY ...): ask every member again, now. */
  rediscover(reason: string): void;
  /** Manual failover (admin API); resolves with a one-line result. */
  failover(to: string | undefined): Promise<string>;
  /** Failovers done or followed since start. */
  readonly failovers: number;
}

/** A replica set as its controller sees and drives it. */
export interface ControlledSet {
  readonly name: string;
  /** The pool the set belongs to (logs, worker messages). */
  readonly poolName: string;
  readonly cfg: ReplicaSetConfig;
  /** The members' servers, in config order (their index is the member number). */
  readonly members: readonly BackendServer[];
  readonly protocol: "memcache" | "redis";
  /** The pool's Redis password (`redis_auth`), for the controller's own links. */
  readonly redisAuth: string | undefined;
  readonly view: SetView;
  readonly events: SetEvents;
  /** Swaps the view: the control plane's only way to change where requests go. */
  setView(v: SetView): void;
  /** Sends the writes held for a write target again (after a rediscovery round). */
  resumeParked(): void;
}

/** Builds the controller of a set when the pool builds the set. */
export type SetControllerFactory = (set: ControlledSet, log: Logger) => SetController;
