/**
 * What every session of one node shares: the store, the clocks, the counters and the options.
 */
import { type Logger, subLogger } from "../log.js";
import { counters, type NodeCounters, nodeMetrics } from "../metrics/table.js";
import { Store } from "../store/store.js";
import { StoreMode, StoreResult } from "../store/types.js";
import { CoarseClock, HybridLogicalClock, type Version } from "./clock.js";
import type { NodeOptions } from "./options.js";
import { Replication } from "./replication/replication.js";

export class NodeContext {
  readonly store: Store;
  readonly clock = new CoarseClock();
  readonly hlc: HybridLogicalClock;
  /**
   * Bumped several times per request. counters() fills its object by computed keys, which
   * leaves V8 holding 29 properties in dictionary mode (a hash lookup per `c.cmd_get++`); the
   * spread copy gets a fast, fixed shape.
   */
  readonly counters: NodeCounters = { ...counters(nodeMetrics) };
  readonly startedAt = Math.floor(Date.now() / 1000);
  /** memcached's `verbosity` setting; kept so `stats settings` reports it. */
  verbosity: number;
  /** A reused holder for the version of the write being executed. */
  readonly ver: Version = { hi: 0, lo: 0 };
  /** Node-to-node replication, when enabled. */
  readonly repl: Replication | undefined;
  /** Set by the replicated store when the current command changed data; see endWrite. */
  wrote = false;
  /** For RunResult.Hold: the backlog seq to wait for, and where the held reply starts. */
  holdSeq = 0;
  holdMark = 0;

  constructor(
    readonly options: NodeOptions,
    readonly log: Logger,
    nodeId = 0,
  ) {
    const storeOptions = {
      memoryLimitBytes: options.memoryLimitMb * 1024 * 1024,
      maxItemSize: options.maxItemSize,
    };
    this.hlc = new HybridLogicalClock(options.replication?.nodeId ?? nodeId);
    if (options.replication) {
      const host = { hlc: this.hlc, now: () => this.now(), markWrote: () => (this.wrote = true) };
      this.repl = new Replication(
        options.replication,
        storeOptions,
        host,
        subLogger(log, "replication"),
      );
      this.store = this.repl.store;
    } else {
      this.repl = undefined;
      this.store = new Store(storeOptions);
    }
    this.verbosity = options.verbosity;
  }

  /** Stamps a new write: the version is also the item's CAS value. */
  nextVersion(): Version {
    return this.hlc.tick(this.ver);
  }

  /**
   * A storage command as every protocol runs it: stamps a new version (left in `this.ver`, the
   * item's CAS), stores, and counts the outcome as memcached's stats do (cas_*, store_*).
   * `exptimeAbs` is already normalized.
   */
  storeItem(
    mode: StoreMode,
    key: Uint8Array,
    ks: number,
    ke: number,
    val: Buffer,
    vs: number,
    ve: number,
    flags: number,
    exptimeAbs: number,
    casHi: number,
    casLo: number,
  ): StoreResult {
    const v = this.nextVersion();
    const c = this.counters;
    const r = this.store.store(
      mode,
      key,
      ks,
      ke,
      val,
      vs,
      ve,
      flags,
      exptimeAbs,
      casHi,
      casLo,
      v.hi,
      v.lo,
      this.now(),
    );
    if (mode === StoreMode.Cas) {
      if (r === StoreResult.Stored) c.cas_hits++;
      else if (r === StoreResult.Exists) c.cas_badval++;
      else if (r === StoreResult.NotFound) c.cas_misses++;
    }
    if (r === StoreResult.TooLarge) c.store_too_large++;
    else if (r === StoreResult.NoMemory) c.store_no_memory++;
    return r;
  }

  /**
   * Called by a session after a command that wrote (`wrote` is set): logs the change for the
   * peers, and in sync mode asks to hold the reply written since `mark` (true = RunResult.Hold).
   */
  endWrite(mark: number): boolean {
    this.wrote = false;
    const repl = this.repl;
    if (repl === undefined) return false;
    const seq = repl.commit();
    if (seq === 0 || repl.opts.syncReplicas === 0) return false;
    this.holdSeq = seq;
    this.holdMark = mark;
    return true;
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
