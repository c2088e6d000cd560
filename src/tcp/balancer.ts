/**
 * The TCP balancer: every `tcp:` service with its listener, plus the control plane that turns
 * health transitions into new routing snapshots. Probe ids are "<service>/<host:port>".
 * A service without `check:` is never probed: its servers count as up, and connect failures
 * only move the client on to the next server (keepalived needs a checker to remove a server).
 */
import type { TcpServiceConfig } from "../config/index.js";
import { type CheckRunner, type ProbeEvent, Prober } from "../health/prober.js";
import type { HealthCheckConfig } from "../health/types.js";
import { TcpService, type TcpServiceOptions } from "./service.js";
import { buildSnapshot, type ServerHealth, serverId, type TcpServiceShape } from "./snapshot.js";

export interface TcpBalancerOptions extends TcpServiceOptions {
  /** Share a prober (e.g. with the proxy pools); by default the balancer owns one. */
  prober?: Prober;
  /** Check implementation for an owned prober (tests). */
  check?: CheckRunner;
  onError?: (err: unknown) => void;
}

export class TcpBalancer {
  readonly services = new Map<string, TcpService>();
  readonly prober: Prober;
  private readonly ownsProber: boolean;
  private readonly versions = new Map<string, number>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly configs: Record<string, TcpServiceShape | TcpServiceConfig>,
    opts: TcpBalancerOptions = {},
  ) {
    this.ownsProber = opts.prober === undefined;
    this.prober =
      opts.prober ??
      new Prober({ ...(opts.check ? { check: opts.check } : {}), onError: opts.onError });
    for (const [name, cfg] of Object.entries(configs)) {
      this.registerProbes(name, cfg);
      const reporter = cfg.check
        ? {
            reportFailure: (id: string, reason: string) => this.prober.reportFailure(id, reason),
            reportSuccess: (id: string) => this.prober.reportSuccess(id),
          }
        : undefined;
      const svc = new TcpService(name, cfg, this.snapshotFor(name), reporter, opts);
      this.services.set(name, svc);
    }
    this.unsubscribe = this.prober.subscribe((e) => this.onProbeEvent(e));
  }

  /** Listens on every service and starts probing; returns each service's bound address. */
  async start(): Promise<
    Map<string, ReturnType<TcpService["listen"]> extends Promise<infer A> ? A : never>
  > {
    const out = new Map();
    for (const [name, svc] of this.services) out.set(name, await svc.listen());
    if (this.ownsProber) this.prober.start();
    return out;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.ownsProber) await this.prober.stop();
    else for (const id of this.probeIds()) this.prober.remove(id);
    await Promise.all([...this.services.values()].map((s) => s.close()));
  }

  private *probeIds(): Iterable<string> {
    for (const [name, cfg] of Object.entries(this.configs))
      if (cfg.check)
        for (const s of cfg.servers) yield `${name}/${serverId(s.address.host, s.address.port)}`;
  }

  private registerProbes(name: string, cfg: TcpServiceShape): void {
    if (!cfg.check) return;
    for (const s of cfg.servers) {
      const check = { ...cfg.check, ...(s.check ?? {}) } as HealthCheckConfig;
      const notifyUp = s.notify_up ?? cfg.notify_up;
      const notifyDown = s.notify_down ?? cfg.notify_down;
      this.prober.add({
        id: `${name}/${serverId(s.address.host, s.address.port)}`,
        target: { host: s.address.host, port: s.address.port },
        check,
        ...(notifyUp ? { notifyUp } : {}),
        ...(notifyDown ? { notifyDown } : {}),
      });
    }
  }

  private snapshotFor(name: string) {
    const cfg = this.configs[name];
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
    const slash = e.target.indexOf("/");
    const name = e.target.slice(0, slash);
    const svc = this.services.get(name);
    if (!svc) return;
    if (e.type === "transition") {
      svc.counters.transitions++;
      svc.countersFor(e.target.slice(slash + 1)).transitions++;
    }
    svc.setSnapshot(this.snapshotFor(name));
  }
}
