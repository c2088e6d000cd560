/**
 * The control plane of a pool in the process that decides (the primary): it holds every
 * server's and replica set's control state, absorbs what changes it and rebuilds the routing
 * table from it:
 *   - passive ejection exactly as nc_server.c (server_failure: with auto_eject_hosts,
 *     `server_failure_limit` consecutive failures take a server out for `server_retry_timeout`
 *     ms, after which it is put back without a check, as twemproxy does);
 *   - the active health checker's verdicts (pool-health.ts, the check twemproxy lacks);
 *   - the operator's drain, disable, enable and weight (admin API).
 * Every change is a table rebuild and swap, and an event for the listeners (the admin plane's
 * history), so nobody polls for it. A worker process's pool has no such object: it follows the
 * primary's tables (workers/worker-pool.ts).
 */
import type { Prober } from "../health/prober.js";
import type { Logger } from "../log.js";
import type { ProxyPoolCounters } from "../metrics/table.js";
import { type HealthWatch, probeId, type WatchedPool, watchHealth } from "./pool-health.js";
import { buildTable, type RoutingTable } from "./router.js";
import type { BackendServer } from "./server.js";
import type { PoolTarget } from "./target.js";
import type { TargetState } from "./target-state.js";

// The state's types live apart so that a server can name them without importing this plane.
export type { AdminState, TargetState } from "./target-state.js";

/** A change of one entry's control state, after the table was swapped for it. */
export type PoolControlEvent =
  | { type: "ejected"; server: BackendServer; reason: string }
  | { type: "returned"; server: BackendServer }
  | { type: "health"; server: BackendServer; down: boolean; reason: string }
  | { type: "operator"; target: PoolTarget };

export type PoolControlListener = (e: PoolControlEvent) => void;

/**
 * What the control plane needs of its pool (pool.ts ProxyPool, which holds a PoolControl as
 * its PoolControlPlane): declared here so the control plane depends on this contract, not on
 * the pool that owns it.
 */
export interface ControlledPool extends WatchedPool {
  readonly counters: ProxyPoolCounters;
  /** Builds and swaps a new routing table from the entries' current states. */
  rebuild(): void;
}

const NEVER = { live: 0, pick: () => -1 };

export class PoolControl {
  private readonly states = new Map<PoolTarget | BackendServer, TargetState>();
  private readonly listeners = new Set<PoolControlListener>();
  private version = 0;
  private health: HealthWatch | undefined;

  constructor(
    private readonly pool: ControlledPool,
    private readonly prober: Prober | undefined,
    private readonly log: Logger,
  ) {}

  /** The control state of `t` (a fresh one, all in, for an entry not seen before). */
  state(t: PoolTarget | BackendServer): TargetState {
    let st = this.states.get(t);
    if (st === undefined) {
      st = {
        ejectedUntil: 0,
        ejectTimer: undefined,
        healthDown: false,
        adminState: "enabled",
        weightOverride: undefined,
      };
      this.states.set(t, st);
    }
    return st;
  }

  subscribe(l: PoolControlListener): () => void {
    this.listeners.add(l);
    return () => {
      this.listeners.delete(l);
    };
  }

  private emit(e: PoolControlEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A broken listener (the dashboard) must not stop the control plane.
      }
    }
  }

  /** Taken out of routing through the admin API (drain, disable, weight 0). */
  private operatorOut(t: PoolTarget): boolean {
    const st = this.state(t);
    return st.adminState !== "enabled" || st.weightOverride === 0;
  }

  build(): RoutingTable<PoolTarget> {
    const pool = this.pool;
    const cfg = pool.config;
    const eject = cfg.auto_eject_hosts;
    const targets = pool.servers;
    const table = buildTable(
      cfg,
      cfg.servers.map((s, i) => {
        const t = targets[i];
        const st = this.state(t);
        const weight = Math.max(1, st.weightOverride ?? s.weight);
        // A replica set stays live (its members fail over inside it; keys never move).
        if (t.kind === "set")
          return { key: s.key, weight, live: !this.operatorOut(t), set: t.view };
        return {
          key: s.key,
          weight,
          live: !this.operatorOut(t) && (!eject || (st.ejectedUntil === 0 && !st.healthDown)),
        };
      }),
      ++this.version,
      targets,
    );
    // A pool of one routes without hashing (server_pool_idx), so the table's live flag is not
    // consulted; an operator's drain/disable/weight 0 must still stop new requests to it.
    if (targets.length === 1 && this.operatorOut(targets[0])) return { ...table, picker: NEVER };
    return table;
  }

  /** The pool adopted a config: forget entries it dropped, watch the health of the new list. */
  configured(): void {
    const kept = new Set<PoolTarget | BackendServer>();
    for (const t of this.pool.servers) {
      kept.add(t);
      for (const b of t.backends) kept.add(b);
    }
    for (const [t, st] of this.states) {
      if (kept.has(t)) continue;
      if (st.ejectTimer !== undefined) clearTimeout(st.ejectTimer);
      this.states.delete(t);
    }
    this.health?.stop();
    this.health = undefined;
    const cfg = this.pool.config;
    if (!this.prober || !(cfg.auto_eject_hosts || cfg.health)) return;
    // A (re)registered check starts from up, as the prober's new target does.
    for (const t of this.pool.servers) if (t.kind === "server") this.state(t).healthDown = false;
    this.health = watchHealth(this.pool, this.prober, (s, down, reason) => {
      this.log.warn(
        { pool: this.pool.name, server: s.label, state: down ? "down" : "up", reason },
        "health check transition",
      );
      this.setHealthDown(s, down);
      this.pool.rebuild();
      this.emit({ type: "health", server: s, down, reason });
    });
  }

  /** Out of the table already: passively ejected, or down by its health check. */
  private out(st: TargetState): boolean {
    return st.ejectedUntil !== 0 || st.healthDown;
  }

  /**
   * The active health checker's verdict. With auto_eject_hosts a server going down counts as an
   * ejection (twemproxy's stats), once per outage: not again if the passive counter already took
   * it out, and a failure does not count for one the checker took out.
   */
  private setHealthDown(s: BackendServer, down: boolean): void {
    const st = this.state(s);
    if (down && !this.out(st) && this.pool.config.auto_eject_hosts) this.markEjected(s);
    st.healthDown = down;
  }

  /** One failure of `s` (a connection failed or timed out): nc_server.c server_failure. */
  serverFailed(s: BackendServer, reason: string): void {
    this.prober?.reportFailure(probeId(this.pool, s), reason);
    const cfg = this.pool.config;
    const st = this.state(s);
    if (!cfg.auto_eject_hosts || this.out(st)) return;
    s.failures++;
    if (s.failures < cfg.server_failure_limit) return;
    this.log.warn(
      { pool: this.pool.name, server: s.label, reason, retryMs: cfg.server_retry_timeout },
      "ejecting server",
    );
    this.markEjected(s);
    st.ejectedUntil = Date.now() + cfg.server_retry_timeout;
    st.ejectTimer = setTimeout(() => {
      st.ejectTimer = undefined;
      st.ejectedUntil = 0;
      this.log.info({ pool: this.pool.name, server: s.label }, "server back in the pool");
      this.pool.rebuild();
      this.emit({ type: "returned", server: s });
    }, cfg.server_retry_timeout);
    st.ejectTimer.unref();
    this.pool.rebuild();
    this.emit({ type: "ejected", server: s, reason });
  }

  /** The stats side of an ejection (twemproxy server_ejected_at in µs, pool server_ejects). */
  private markEjected(s: BackendServer): void {
    // Its clients holding dedicated connections (a BLPOP, a subscriber) are told, not left
    // waiting: new requests for its keys, and the designated pub/sub server, move elsewhere.
    s.closeDedicated("was ejected from the pool");
    s.failures = 0;
    s.counters.server_ejected_at = Date.now() * 1000;
    this.pool.counters.server_ejects++;
  }

  // ---- the operator (admin API) ----

  /** No new request is routed to `t`; requests in flight finish. */
  drain(t: PoolTarget): void {
    this.state(t).adminState = "draining";
    this.operatorChanged(t);
  }

  /** As drain, and its connections are closed now (their requests fail with the reason). */
  disable(t: PoolTarget): void {
    this.state(t).adminState = "disabled";
    this.pool.rebuild();
    t.forEachConn((c) => c.close("was disabled by the operator"));
    this.emit({ type: "operator", target: t });
  }

  /** Back in the table; a weight 0 set by the operator is cleared. */
  enable(t: PoolTarget): void {
    const st = this.state(t);
    st.adminState = "enabled";
    if (st.weightOverride === 0) st.weightOverride = undefined;
    this.operatorChanged(t);
  }

  /** The distribution is rebuilt with `weight` for `t` until a reload; 0 drains it. */
  setWeight(t: PoolTarget, weight: number): void {
    this.state(t).weightOverride = weight;
    this.operatorChanged(t);
  }

  private operatorChanged(t: PoolTarget): void {
    this.pool.rebuild();
    this.emit({ type: "operator", target: t });
  }

  close(): void {
    this.health?.stop();
    this.health = undefined;
    for (const st of this.states.values())
      if (st.ejectTimer !== undefined) clearTimeout(st.ejectTimer);
  }
}
