/**
 * The primary's side of the data-plane worker processes. The primary binds every shareable
 * service's listening socket, serves it itself, and sends the same socket to each worker, so
 * the kernel spreads accepted connections over all processes (HAProxy does the same with
 * `nbthread`, one listener shared by its threads). Only the primary probes and decides: it
 * pushes immutable routing snapshots to the workers, and aggregates the counters they report.
 *
 * Forking, the ready handshake, re-forking and stopping are ForkedWorkers (src/workers/forked.ts).
 * A worker that dies is forked again after a second and gets every service again; the
 * counters it had reported are kept (as retired totals), so aggregated totals never go back.
 */
import type net from "node:net";
import { type Forked, ForkedWorkers, moduleBeside } from "../workers/forked.js";
import { newServiceCounters, type ServerCounters, type ServiceCounters } from "./counters.js";
import type { FromWorker, ToWorker } from "./ipc.js";
import type { LiveCounters } from "./links.js";
import type { TcpServiceOptions } from "./service.js";
import type { RoutingSnapshot, TcpServiceShape } from "./snapshot.js";

export interface WorkerPoolOptions {
  /** Passive health signal from a worker's connect attempt. */
  onHealth(id: string, ok: boolean, reason: string): void;
  onError?: (err: unknown) => void;
  /** How often workers report counters (ms). */
  statsIntervalMs?: number;
}

interface Shared {
  cfg: TcpServiceShape;
  snap: RoutingSnapshot;
  server: net.Server;
  opts: TcpServiceOptions;
}

/** What the pool keeps per worker process. */
interface WorkerState {
  /** The last counters it reported, per service. */
  last: Record<string, LiveCounters>;
  serving: Set<string>;
}

type Worker = Forked<WorkerState>;

const GAUGES = new Set(["active", "queueLength"]);

/** Adds b's totals into a (gauges too when `gauges`). */
function addInto<T extends object>(a: T, b: T, gauges: boolean): void {
  const x = a as Record<string, number>;
  for (const [k, v] of Object.entries(b)) if (gauges || !GAUGES.has(k)) x[k] = (x[k] ?? 0) + v;
}

export class WorkerPool extends ForkedWorkers<WorkerState, ToWorker, FromWorker> {
  private readonly shared = new Map<string, Shared>();
  private readonly retired = new Map<string, LiveCounters>();

  constructor(
    count: number,
    private readonly opts: WorkerPoolOptions,
  ) {
    super({
      entry: moduleBeside(import.meta.url, "worker-main"),
      count,
      stopMessage: { t: "stop" },
    });
  }

  /** Resolves when every worker serves `name` (tests; the primary serves it meanwhile). */
  serving(name: string, timeoutMs = 5000): Promise<void> {
    return this.until((w) => w.state.serving.has(name), timeoutMs);
  }

  addService(name: string, s: Shared): void {
    this.shared.set(name, s);
    for (const w of this.live()) this.sendService(w, name, s);
  }

  reconfigure(name: string, cfg: TcpServiceShape, snap: RoutingSnapshot): void {
    const s = this.shared.get(name);
    if (!s) return;
    s.cfg = cfg;
    s.snap = snap;
    this.broadcast({ t: "reconfigure", name, cfg, snap });
  }

  snapshot(name: string, snap: RoutingSnapshot): void {
    const s = this.shared.get(name);
    if (!s) return;
    s.snap = snap;
    this.broadcast({ t: "snapshot", name, snap });
  }

  removeService(name: string, drain: boolean): void {
    if (!this.shared.delete(name)) return;
    this.broadcast({ t: "remove", name, drain });
  }

  /** Sum of the workers' last reports (and of dead workers' totals) for one service. */
  counters(name: string): LiveCounters {
    const out: LiveCounters = { service: newServiceCounters(), servers: {} };
    const add = (c: LiveCounters, gauges: boolean) => {
      addInto<ServiceCounters>(out.service, c.service, gauges);
      for (const [id, sc] of Object.entries(c.servers)) {
        const o = (out.servers[id] ??= zeroes(sc));
        addInto<ServerCounters>(o, sc, gauges);
      }
    };
    const r = this.retired.get(name);
    if (r) add(r, false);
    for (const w of this.live()) {
      const c = w.state.last[name];
      if (c) add(c, true);
    }
    return out;
  }

  protected init(): WorkerState {
    return { last: {}, serving: new Set() };
  }

  protected override forkEnv(): NodeJS.ProcessEnv {
    const env = { ...process.env };
    if (this.opts.statsIntervalMs) env.KEEPCACHE_TCP_STATS_MS = String(this.opts.statsIntervalMs);
    return env;
  }

  /** Every service with its current config and snapshot: nothing missed before is lost. */
  protected onReady(w: Worker): void {
    for (const [name, s] of this.shared) this.sendService(w, name, s);
  }

  protected onMessage(w: Worker, m: FromWorker): void {
    if (m.t === "serving") w.state.serving.add(m.name);
    else if (m.t === "counters") w.state.last = m.services;
    else if (m.t === "health") this.opts.onHealth(m.id, m.ok, m.reason);
  }

  protected onExit(
    w: Worker,
    code: number | null,
    signal: NodeJS.Signals | null,
    expected: boolean,
  ) {
    for (const [name, c] of Object.entries(w.state.last)) this.retire(name, c);
    if (!expected)
      this.opts.onError?.(new Error(`tcp worker exited (code ${code}, signal ${signal})`));
  }

  protected onSlow(w: Worker): void {
    this.onError(new Error(`tcp worker ${w.child.pid} not ready in time; killing it`));
  }

  protected onError(err: unknown): void {
    this.opts.onError?.(err);
  }

  private retire(name: string, c: LiveCounters): void {
    const r = this.retired.get(name) ?? { service: newServiceCounters(), servers: {} };
    addInto<ServiceCounters>(r.service, c.service, false);
    for (const [id, sc] of Object.entries(c.servers))
      addInto<ServerCounters>((r.servers[id] ??= zeroes(sc)), sc, false);
    this.retired.set(name, r);
  }

  private sendService(w: Worker, name: string, s: Shared): void {
    this.send(w, { t: "service", name, cfg: s.cfg, snap: s.snap, opts: s.opts }, s.server);
  }
}

function zeroes<T extends object>(o: T): T {
  const z: Record<string, number> = {};
  for (const k of Object.keys(o)) z[k] = 0;
  return z as T;
}
