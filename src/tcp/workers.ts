/**
 * The primary's side of the data-plane worker processes. The primary binds every shareable
 * service's listening socket, serves it itself, and sends the same socket to each worker, so
 * the kernel spreads accepted connections over all processes (HAProxy does the same with
 * `nbthread`, one listener shared by its threads). Only the primary probes and decides: it
 * pushes immutable routing snapshots to the workers, and aggregates the counters they report.
 *
 * A worker that dies is forked again after a second and gets every service again; the
 * counters it had reported are kept (as retired totals), so aggregated totals never go back.
 */
import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import type net from "node:net";
import { fileURLToPath } from "node:url";
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

interface Worker {
  child: ChildProcess;
  /** The last counters it reported, per service. */
  last: Record<string, LiveCounters>;
  serving: Set<string>;
}

const GAUGES = new Set(["active", "queueLength"]);

/** Adds b's totals into a (gauges too when `gauges`). */
function addInto<T extends object>(a: T, b: T, gauges: boolean): void {
  const x = a as Record<string, number>;
  for (const [k, v] of Object.entries(b)) if (gauges || !GAUGES.has(k)) x[k] = (x[k] ?? 0) + v;
}

function workerEntry(): string {
  const js = fileURLToPath(new URL("./worker-main.js", import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL("./worker-main.ts", import.meta.url));
}

export class WorkerPool {
  private readonly workers = new Set<Worker>();
  private readonly shared = new Map<string, Shared>();
  private readonly retired = new Map<string, LiveCounters>();
  private stopping = false;

  constructor(
    private readonly count: number,
    private readonly opts: WorkerPoolOptions,
  ) {}

  get size(): number {
    return this.workers.size;
  }

  /** Process ids of the live workers (status pages, tests). */
  pids(): number[] {
    return [...this.workers].flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid]));
  }

  /** Forks the workers and waits until each is ready. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.count }, () => this.spawn()));
  }

  /** Resolves when every worker serves `name` (tests; the primary serves it meanwhile). */
  async serving(name: string, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while ([...this.workers].some((w) => !w.serving.has(name)) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 10));
  }

  addService(name: string, s: Shared): void {
    this.shared.set(name, s);
    for (const w of this.workers) this.sendService(w, name, s);
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
    for (const w of this.workers) {
      const c = w.last[name];
      if (c) add(c, true);
    }
    return out;
  }

  /** Asks every worker to stop (closing its connections); kills those still alive after 2 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    const exits = [...this.workers].map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
          const t = setTimeout(() => w.child.kill("SIGKILL"), 2000);
          w.child.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
          this.send(w, { t: "stop" });
        }),
    );
    await Promise.all(exits);
  }

  private spawn(): Promise<void> {
    const execArgv = workerExecArgv(process.execArgv);
    const env = { ...process.env };
    if (this.opts.statsIntervalMs) env.KEEPCACHE_TCP_STATS_MS = String(this.opts.statsIntervalMs);
    const child = fork(workerEntry(), [], { execArgv, env, serialization: "json" });
    const w: Worker = { child, last: {}, serving: new Set() };
    this.workers.add(w);
    return new Promise<void>((resolve) => {
      child.on("message", (m: FromWorker) => {
        if (m.t === "ready") {
          for (const [name, s] of this.shared) this.sendService(w, name, s);
          resolve();
        } else if (m.t === "serving") w.serving.add(m.name);
        else if (m.t === "counters") w.last = m.services;
        else if (m.t === "health") this.opts.onHealth(m.id, m.ok, m.reason);
      });
      child.on("error", (err) => this.opts.onError?.(err));
      child.once("exit", (code, signal) => {
        this.workers.delete(w);
        for (const [name, c] of Object.entries(w.last)) this.retire(name, c);
        resolve();
        if (this.stopping) return;
        this.opts.onError?.(new Error(`tcp worker exited (code ${code}, signal ${signal})`));
        setTimeout(() => {
          if (!this.stopping) void this.spawn();
        }, 1000).unref();
      });
    });
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

  private broadcast(m: ToWorker): void {
    for (const w of this.workers) this.send(w, m);
  }

  private send(w: Worker, m: ToWorker, handle?: net.Server): void {
    if (!w.child.connected) return;
    w.child.send(m, handle, (err) => {
      if (err && !this.stopping) this.opts.onError?.(err);
    });
  }
}

/** Flags that take the next argument as their value. */
const WITH_VALUE = new Set(["--import", "--require", "-r", "--loader", "--experimental-loader"]);
/** Flags kept as one argument (`--flag` or `--flag=value`). */
const KEPT =
  /^--(import|require|loader|experimental-loader|conditions|max-old-space-size|max-semi-space-size|stack-size|enable-source-maps|no-warnings|no-deprecation)(=|$)/;

/**
 * The node flags a worker inherits: module loaders (tsx in development) and memory settings.
 * Everything else is dropped, with its value: the test runner's `--test-name-pattern X`,
 * `--inspect`, `--watch`, `--cpu-prof` belong to the primary.
 */
export function workerExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (WITH_VALUE.has(a) && i + 1 < argv.length) out.push(a, argv[++i]);
    else if (KEPT.test(a)) out.push(a);
  }
  return out;
}

function zeroes<T extends object>(o: T): T {
  const z: Record<string, number> = {};
  for (const k of Object.keys(o)) z[k] = 0;
  return z as T;
}
