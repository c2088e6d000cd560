/**
 * What every session of one node shares: the store, the clocks, the counters and the options.
 */
import type { Logger } from "../log.js";
import { counters, type NodeCounters, nodeMetrics } from "../metrics/table.js";
import { Store } from "../store/store.js";
import { BinarySession } from "./binary-session.js";
import { CoarseClock, HybridLogicalClock, type Version } from "./clock.js";
import type { NodeOptions } from "./options.js";
import type { Session } from "./session.js";
import { TextSession } from "./text-session.js";

export class NodeContext {
  readonly store: Store;
  readonly clock = new CoarseClock();
  readonly hlc: HybridLogicalClock;
  readonly counters: NodeCounters = counters(nodeMetrics);
  readonly startedAt = Math.floor(Date.now() / 1000);
  /** memcached's `verbosity` setting; kept so `stats settings` reports it. */
  verbosity: number;
  /** A reused holder for the version of the write being executed. */
  readonly ver: Version = { hi: 0, lo: 0 };

  constructor(
    readonly options: NodeOptions,
    readonly log: Logger,
    nodeId = 0,
  ) {
    this.store = new Store({
      memoryLimitBytes: options.memoryLimitMb * 1024 * 1024,
      maxItemSize: options.maxItemSize,
    });
    this.hlc = new HybridLogicalClock(nodeId);
    this.verbosity = options.verbosity;
  }

  newSession(kind: "text" | "binary"): Session {
    return kind === "binary" ? new BinarySession(this) : new TextSession(this);
  }

  /** Stamps a new write: the version is also the item's CAS value. */
  nextVersion(): Version {
    return this.hlc.tick(this.ver);
  }

  now(): number {
    return this.clock.now();
  }

  start(): void {
    this.clock.start();
  }

  stop(): void {
    this.clock.stop();
  }
}
