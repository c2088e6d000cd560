/**
 * The primary's side of the proxy worker processes (`workers: N`, N > 1: N - 1 workers, the
 * primary being the Nth data-plane process). The primary binds each pool's listening socket,
 * serves it itself and sends the same socket to each worker, so the kernel spreads accepted
 * connections over all processes (src/tcp/workers.ts does the same for `tcp:` services).
 *
 * The control plane stays here: config and reload, the health prober, ejection
 * (eject.ts: failures reported by workers are counted like the primary's own), replica-set
 * monitoring and failover. Every table swap is pushed to the workers (ProxyPool's onTable
 * hook), which rebuild the picker from its plain data. Workers report counters every second
 * and on demand (the stats port); merge.ts adds them into the primary's counters objects.
 *
 * Shared: TCP listeners without TLS. A unix-socket or TLS pool is served by the primary alone
 * (a tls.Server cannot cross IPC: the child would get a plain net.Server for the same fd and
 * the TLS context would have to be rebuilt there, certificate reloads included). A Redis
 * Cluster pool's slot map stays here too (cluster/control.ts): its tables carry the map's
 * masters, replicas and slot owners as plain data (ClusterControl.wire), and a worker's
 * "refresh" (a -MOVED, a failing node) is one more reason for the primary's coalesced refresh.
 *
 * Forking, the ready handshake, re-forking and stopping are ForkedWorkers
 * (src/workers/forked.ts). A worker that dies is forked again after a second and gets every
 * shared pool again.
 */
import type { Logger } from "../../log.js";
import { type Forked, ForkedWorkers, moduleBeside } from "../../workers/forked.js";
import { ClusterControl } from "../cluster/control.js";
import type { ProxyPool } from "../pool.js";
import type { BackendServer } from "../server.js";
import type { QueueGauges } from "../stats.js";
import { type FromWorker, type ToWorker, toWire, type WireTable } from "./ipc.js";
import { type MergeTarget, serverByName, WorkerTotals } from "./merge.js";

/** How long the stats port waits for fresh worker counters before answering with the last. */
const REFRESH_WAIT_MS = 300;
/** How long a reload waits for workers to close a removed pool's listening socket. */
const REMOVE_WAIT_MS = 2000;
/** What the primary keeps per worker process. */
interface WorkerState {
  totals: WorkerTotals;
  /** "name#gen" of the pools it serves. */
  serving: Set<string>;
  /** Pending on-demand reports: seq → resolve. */
  waiting: Map<number, () => void>;
}

type Worker = Forked<WorkerState>;

interface Shared {
  pool: ProxyPool;
  gen: number;
  /**
   * The operator's config object last sent (ProxyPool.given): tables built during a reload's
   * apply() wait for it. A cluster pool's map change applies the same one again.
   */
  sent: ProxyPool["given"];
}

/** Pools the workers can serve too. */
export function shareable(pool: ProxyPool): boolean {
  return pool.config.listen.kind === "tcp" && pool.config.tls === undefined;
}

/** A pool's current table as plain data (with a cluster pool's slot owners). */
function wireOf(pool: ProxyPool): WireTable {
  const t = toWire(pool.table);
  return pool.control instanceof ClusterControl ? { ...t, cluster: pool.control.wire() } : t;
}

export interface ProxyWorkersOptions {
  log: Logger;
  global: MergeTarget["global"];
  /** How often workers report counters (ms). */
  statsIntervalMs?: number;
}

export class ProxyWorkers extends ForkedWorkers<WorkerState, ToWorker, FromWorker> {
  private readonly shared = new Map<string, Shared>();
  private gens = 0;
  private seq = 0;
  /** When a worker's failure report was last logged, per server. */
  private readonly logged = new WeakMap<BackendServer, number>();
  private readonly target: MergeTarget;

  constructor(
    readonly count: number,
    private readonly opts: ProxyWorkersOptions,
  ) {
    super({
      entry: moduleBeside(import.meta.url, "worker-main"),
      count,
      stopMessage: { t: "stop" },
    });
    this.target = {
      global: opts.global,
      pool: (name, gen) => {
        const s = this.shared.get(name);
        return s?.gen === gen ? s.pool : undefined;
      },
    };
  }

  /** Resolves when every live worker serves the current gen of `name` (or after timeoutMs). */
  serving(name: string, timeoutMs = 5000): Promise<void> {
    const key = () => `${name}#${this.shared.get(name)?.gen}`;
    return this.until((w) => w.state.serving.has(key()), timeoutMs);
  }

  /** A pool that listens now: the workers serve it too (when shareable). */
  addPool(pool: ProxyPool): void {
    if (!shareable(pool) || pool.listener === undefined) return;
    const s: Shared = { pool, gen: ++this.gens, sent: pool.given };
    this.shared.set(pool.name, s);
    for (const w of this.live()) this.sendPool(w, s);
  }

  /** A reload kept the pool's listener and applied a new config. */
  reconfigure(pool: ProxyPool): void {
    const s = this.shared.get(pool.name);
    if (s?.pool !== pool) return;
    s.sent = pool.given;
    const cfg = pool.given;
    this.broadcast({ t: "config", name: pool.name, gen: s.gen, cfg, table: wireOf(pool) });
  }

  /** ProxyPool onTable hook: the primary swapped a pool's table. */
  table(pool: ProxyPool): void {
    const s = this.shared.get(pool.name);
    // During a reload's apply() the config is not sent yet; "config" carries the table then.
    if (s?.pool !== pool || s.sent !== pool.given) return;
    this.broadcast({ t: "table", name: pool.name, gen: s.gen, table: wireOf(pool) });
  }

  /**
   * The workers stop serving the pool. Resolves once each closed its copy of the listening
   * socket (bounded): a reload that starts a pool on the same address must find it free.
   */
  async removePool(name: string): Promise<void> {
    const s = this.shared.get(name);
    if (s === undefined) return;
    this.shared.delete(name);
    const key = `${name}#${s.gen}`;
    this.broadcast({ t: "remove", name, gen: s.gen });
    await this.until((w) => !w.state.serving.has(key), REMOVE_WAIT_MS, 5);
  }

  /** Asks every worker for its counters now; resolves when all answered or after a bound. */
  async refresh(): Promise<void> {
    const seq = ++this.seq;
    const waits = [...this.live()]
      .filter((w) => w.ready)
      .map(
        (w) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => {
              w.state.waiting.delete(seq);
              resolve();
            }, REFRESH_WAIT_MS);
            w.state.waiting.set(seq, () => {
              clearTimeout(t);
              resolve();
            });
            this.send(w, { t: "report", seq });
          }),
      );
    await Promise.all(waits);
  }

  /** The workers' current queue gauges of one server (the stats port adds them). */
  queues(pool: string, server: string): QueueGauges {
    const q = { in_queue: 0, in_queue_bytes: 0, out_queue: 0 };
    for (const w of this.live()) {
      const x = w.state.totals.queues(pool, server);
      if (x === undefined) continue;
      q.in_queue += x.in_queue;
      q.in_queue_bytes += x.in_queue_bytes;
      q.out_queue += x.out_queue;
    }
    return q;
  }

  protected init(): WorkerState {
    return { totals: new WorkerTotals(this.target), serving: new Set(), waiting: new Map() };
  }

  protected override forkEnv(): NodeJS.ProcessEnv {
    // The primary's level (-v, `log:`), not only an inherited KEEPCACHE_LOG_LEVEL.
    const env: NodeJS.ProcessEnv = { ...process.env, KEEPCACHE_LOG_LEVEL: this.opts.log.level };
    if (this.opts.statsIntervalMs) env.KEEPCACHE_PROXY_STATS_MS = String(this.opts.statsIntervalMs);
    return env;
  }

  /** Every shared pool with its current config and table: nothing missed before is lost. */
  protected onReady(w: Worker): void {
    for (const s of this.shared.values()) this.sendPool(w, s);
  }

  protected onExit(
    w: Worker,
    code: number | null,
    signal: NodeJS.Signals | null,
    expected: boolean,
  ) {
    w.state.totals.retire();
    for (const done of w.state.waiting.values()) done();
    if (!expected)
      this.opts.log.error({ pid: w.child.pid, code, signal }, "proxy worker exited; forking again");
  }

  protected onSlow(w: Worker): void {
    this.opts.log.error({ pid: w.child.pid }, "proxy worker not ready in time; killing it");
  }

  protected onError(err: unknown): void {
    this.opts.log.warn({ err }, "proxy worker error");
  }

  protected onMessage(w: Worker, m: FromWorker): void {
    switch (m.t) {
      case "serving":
        w.state.serving.add(`${m.name}#${m.gen}`);
        return;
      case "removed":
        w.state.serving.delete(`${m.name}#${m.gen}`);
        return;
      case "counters":
        w.state.totals.add(m.report);
        if (m.seq !== 0) {
          w.state.waiting.get(m.seq)?.();
          w.state.waiting.delete(m.seq);
        }
        return;
      case "failed": {
        const pool = this.target.pool(m.pool, m.gen);
        const s = pool && serverByName(pool, m.server);
        if (!pool || !s) return;
        // One line per server and second at most: a dead backend under load fails often.
        const now = Date.now();
        if ((this.logged.get(s) ?? 0) + 1000 <= now) {
          this.logged.set(s, now);
          this.opts.log.info(
            { pool: m.pool, server: s.label, worker: w.child.pid, reason: m.reason },
            "server failure reported by a worker",
          );
        }
        pool.serverFailed(s, m.reason);
        return;
      }
      case "refresh": {
        const pool = this.target.pool(m.pool, m.gen);
        if (pool?.control instanceof ClusterControl) pool.control.refreshSoon();
        return;
      }
      case "member": {
        const pool = this.target.pool(m.pool, m.gen);
        const set = pool?.servers.find((s) => s.kind === "set" && s.name === m.set);
        if (set?.kind !== "set") return;
        if (m.what === "failed" && m.member >= 0 && m.member < set.members.length)
          set.memberFailed(m.member, m.reason);
        else if (m.what === "rediscover") set.rediscover(m.reason);
        return;
      }
      case "ready": // taken by ForkedWorkers
        return;
    }
  }

  private sendPool(w: Worker, s: Shared): void {
    const p = s.pool;
    if (p.listener === undefined) return;
    const m: ToWorker = { t: "pool", gen: s.gen, cfg: p.given, table: wireOf(p) };
    this.send(w, m, p.listener);
  }
}
