/**
 * The TCP balancer: every `tcp:` service with its listener, plus the control plane that turns
 * health transitions and reloads into new routing snapshots. Probe ids are
 * "<service>/<host:port>". A service without `check:` is never probed: its servers count as
 * up, and connect failures only move the client on to the next server (keepalived needs a
 * checker to remove a server).
 *
 * With `workers` > 1 the data plane also runs in worker processes (see workers.ts); services
 * whose state must be shared across connections (persistence_timeout affinity, maxconn
 * limits and their queue) stay in the primary only, so those limits hold exactly.
 */
import { availableParallelism } from "node:os";
import type { TcpServiceConfig } from "../config/index.js";
import { formatHostPort } from "../config/schema/common.js";
import { type CheckRunner, type ProbeEvent, Prober, type ProbeSpec } from "../health/prober.js";
import type { HealthCheckConfig } from "../health/types.js";
import type { ServerCounters } from "./counters.js";
import type { LiveCounters } from "./links.js";
import { TcpService, type TcpServiceOptions } from "./service.js";
import { buildSnapshot, type ServerHealth, type TcpServiceShape } from "./snapshot.js";
import { WorkerPool } from "./workers.js";

export interface TcpBalancerOptions extends TcpServiceOptions {
  /** Share a prober (e.g. with the proxy pools); by default the balancer owns one. */
  prober?: Prober;
  /** Check implementation for an owned prober (tests). */
  check?: CheckRunner;
  onError?: (err: unknown) => void;
  /**
   * Data-plane processes, the primary included (HAProxy `nbthread`); "auto" = CPU count.
   * Default 1: everything in this process.
   */
  workers?: number | "auto";
  /** How often workers report counters (ms, default 1000). */
  statsIntervalMs?: number;
}

export type ServiceConfigs = Record<string, TcpServiceShape | TcpServiceConfig>;

export interface ReloadSummary {
  added: string[];
  removed: string[];
  /** Same listener, new settings or servers: open connections untouched. */
  changed: string[];
  /** The listen address changed: a new listener; the old one's connections drain. */
  rebound: string[];
}

/** A service's state can be kept per process only when no limit or affinity spans them. */
function shareable(cfg: TcpServiceShape): boolean {
  return (
    cfg.persistence_timeout === 0 &&
    cfg.maxconn === 0 &&
    cfg.servers.every((s) => (s.maxconn ?? 0) === 0)
  );
}

function shape(cfg: TcpServiceShape | TcpServiceConfig): TcpServiceShape {
  const { name: _n, ...rest } = cfg as TcpServiceConfig;
  return rest;
}

const listenKey = (c: TcpServiceShape) => JSON.stringify([c.listen, c.backlog]);

export class TcpBalancer {
  readonly services = new Map<string, TcpService>();
  readonly prober: Prober;
  private configs = new Map<string, TcpServiceShape>();
  private readonly ownsProber: boolean;
  private readonly versions = new Map<string, number>();
  /** Probe id -> its spec as JSON, to keep unchanged probes (and their state) on reload. */
  private readonly probes = new Map<string, string>();
  private readonly workers: WorkerPool | undefined;
  private readonly shared = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private started = false;

  constructor(
    configs: ServiceConfigs,
    private readonly opts: TcpBalancerOptions = {},
  ) {
    this.ownsProber = opts.prober === undefined;
    this.prober =
      opts.prober ??
      new Prober({ ...(opts.check ? { check: opts.check } : {}), onError: opts.onError });
    for (const [name, cfg] of Object.entries(configs)) this.configs.set(name, shape(cfg));
    this.syncProbes();
    for (const [name, cfg] of this.configs) this.services.set(name, this.newService(name, cfg));
    this.unsubscribe = this.prober.subscribe((e) => this.onProbeEvent(e));
    const n = opts.workers === "auto" ? availableParallelism() : (opts.workers ?? 1);
    if (n > 1)
      this.workers = new WorkerPool(n - 1, {
        onHealth: (id, ok, reason) => this.passive(id, ok, reason),
        onError: opts.onError,
        statsIntervalMs: opts.statsIntervalMs,
      });
  }

  /** Data-plane processes besides this one. */
  get workerCount(): number {
    return this.workers?.size ?? 0;
  }

  /** Process ids of the worker processes. */
  workerPids(): number[] {
    return this.workers?.pids() ?? [];
  }

  /** Listens on every service and starts probing; returns each service's bound address. */
  async start(): Promise<Map<string, Awaited<ReturnType<TcpService["listen"]>>>> {
    const out = new Map<string, Awaited<ReturnType<TcpService["listen"]>>>();
    for (const [name, svc] of this.services) out.set(name, await svc.listen());
    if (this.workers) {
      await this.workers.start();
      for (const name of this.services.keys()) this.share(name);
    }
    if (this.ownsProber) this.prober.start();
    this.started = true;
    return out;
  }

  /** Resolves once every worker serves `name` (tests: the primary serves it meanwhile). */
  async workersServing(name: string): Promise<void> {
    await this.workers?.serving(name);
  }

  /**
   * Applies a new set of services (SIGHUP). Unchanged services are untouched; changed ones
   * keep their listener and connections and route new connections by the new config; a
   * service whose listen address changed gets a new listener while the old one's connections
   * run to their end; removed services stop accepting and drain. Probes of unchanged servers
   * keep their health state.
   */
  async reload(configs: ServiceConfigs): Promise<ReloadSummary> {
    const next = new Map(Object.entries(configs).map(([n, c]) => [n, shape(c)]));
    const sum: ReloadSummary = { added: [], removed: [], changed: [], rebound: [] };
    const prev = this.configs;
    this.configs = next;
    this.syncProbes();
    for (const name of prev.keys()) {
      if (next.has(name)) continue;
      sum.removed.push(name);
      await this.retire(name);
    }
    for (const [name, cfg] of next) {
      const old = prev.get(name);
      if (old && JSON.stringify(old) === JSON.stringify(cfg)) continue;
      const svc = this.services.get(name);
      if (old && svc && listenKey(old) === listenKey(cfg)) {
        sum.changed.push(name);
        const snap = this.snapshotFor(name);
        svc.reconfigure(cfg, snap);
        // A service that gained affinity or limits moves to the primary alone (the workers
        // stop accepting and drain); one that lost them is handed to the workers again.
        if (this.shared.has(name) && !shareable(cfg)) {
          this.shared.delete(name);
          this.workers?.removeService(name, true);
        } else if (this.shared.has(name)) this.workers?.reconfigure(name, cfg, snap);
        else if (this.started) this.share(name);
        continue;
      }
      if (old) {
        sum.rebound.push(name);
        await this.retire(name);
      } else sum.added.push(name);
      const fresh = this.newService(name, cfg);
      this.services.set(name, fresh);
      if (this.started) {
        await fresh.listen();
        this.share(name);
      }
    }
    return sum;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.ownsProber) await this.prober.stop();
    else for (const id of this.probes.keys()) this.prober.remove(id);
    this.probes.clear();
    await this.workers?.stop();
    await Promise.all([...this.services.values()].map((s) => s.close()));
  }

  /** Counters of one service across all processes, bytes of open connections included. */
  liveCounters(name: string): LiveCounters | undefined {
    const svc = this.services.get(name);
    if (!svc) return undefined;
    const own = svc.liveCounters();
    if (!this.workers || !this.shared.has(name)) return own;
    const w = this.workers.counters(name);
    const s = own.service as unknown as Record<string, number>;
    for (const [k, v] of Object.entries(w.service)) s[k] += v;
    for (const [id, sc] of Object.entries(w.servers)) {
      const o = own.servers[id] as unknown as Record<string, number> | undefined;
      if (!o) own.servers[id] = sc;
      else for (const [k, v] of Object.entries(sc as unknown as Record<string, number>)) o[k] += v;
    }
    return own;
  }

  /** Every service's bound address ("host:port" or a unix path). */
  addresses(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [name, svc] of this.services) {
      const a = svc.listener()?.address();
      if (a) out.set(name, typeof a === "string" ? a : `${a.address}:${a.port}`);
    }
    return out;
  }

  /** The configured servers of a service in order, with their ids (for status pages). */
  configOf(name: string): TcpServiceShape | undefined {
    return this.configs.get(name);
  }

  private newService(name: string, cfg: TcpServiceShape): TcpService {
    const reporter = cfg.check
      ? {
          reportFailure: (id: string, reason: string) => this.prober.reportFailure(id, reason),
          reportSuccess: (id: string) => this.prober.reportSuccess(id),
        }
      : undefined;
    return new TcpService(name, cfg, this.snapshotFor(name), reporter, this.opts);
  }

  private share(name: string): void {
    const svc = this.services.get(name);
    const cfg = this.configs.get(name);
    const server = svc?.listener();
    if (!this.workers || !svc || !cfg || !server || !shareable(cfg)) return;
    this.shared.add(name);
    const { maxQueue, maxAttempts, maxAffinity } = this.opts;
    const opts = JSON.parse(JSON.stringify({ maxQueue, maxAttempts, maxAffinity }));
    this.workers.addService(name, { cfg, snap: svc.snapshot(), server, opts });
  }

  private async retire(name: string): Promise<void> {
    const svc = this.services.get(name);
    this.services.delete(name);
    if (this.shared.delete(name)) this.workers?.removeService(name, true);
    await svc?.close({ drain: true });
  }

  private passive(id: string, ok: boolean, reason: string): void {
    if (!this.probes.has(id)) return;
    if (ok) this.prober.reportSuccess(id);
    else this.prober.reportFailure(id, reason);
  }

  /** Makes the prober's targets match the configs, keeping unchanged probes as they are. */
  private syncProbes(): void {
    const want = new Map<string, ProbeSpec>();
    for (const [name, cfg] of this.configs) {
      if (!cfg.check) continue;
      for (const s of cfg.servers) {
        const check = { ...cfg.check, ...(s.check ?? {}) } as HealthCheckConfig;
        const notifyUp = s.notify_up ?? cfg.notify_up;
        const notifyDown = s.notify_down ?? cfg.notify_down;
        const id = `${name}/${formatHostPort(s.address.host, s.address.port)}`;
        want.set(id, {
          id,
          target: { host: s.address.host, port: s.address.port },
          check,
          ...(notifyUp ? { notifyUp } : {}),
          ...(notifyDown ? { notifyDown } : {}),
        });
      }
    }
    for (const [id, json] of this.probes) {
      const spec = want.get(id);
      if (spec && JSON.stringify(spec) === json) continue;
      this.prober.remove(id);
      this.probes.delete(id);
    }
    for (const [id, spec] of want) {
      if (this.probes.has(id)) continue;
      this.prober.add(spec);
      this.probes.set(id, JSON.stringify(spec));
    }
  }

  private snapshotFor(name: string) {
    const cfg = this.configs.get(name);
    if (!cfg) throw new Error(`no tcp service ${name}`);
    const version = (this.versions.get(name) ?? 0) + 1;
    this.versions.set(name, version);
    return buildSnapshot(
      cfg,
      (id): ServerHealth | undefined => {
        const st = this.prober.status(`${name}/${id}`);
        if (!st) return undefined;
        return {
          up: st.state === "up",
          upSince: st.transitions > 0 ? st.since : 0,
          dynamicWeight: st.weight,
        };
      },
      version,
    );
  }

  private onProbeEvent(e: ProbeEvent): void {
    if (!this.probes.has(e.target)) return;
    const slash = e.target.indexOf("/");
    const name = e.target.slice(0, slash);
    const svc = this.services.get(name);
    if (!svc) return;
    if (e.type === "transition") {
      svc.counters.transitions++;
      const sc: ServerCounters = svc.countersFor(e.target.slice(slash + 1));
      sc.transitions++;
    }
    const snap = this.snapshotFor(name);
    svc.setSnapshot(snap);
    if (this.shared.has(name)) this.workers?.snapshot(name, snap);
  }
}
