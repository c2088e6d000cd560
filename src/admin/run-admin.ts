/**
 * The admin plane of `keepcache run` (`admin:` in the YAML, or `--admin HOST:PORT`): the proxy
 * pools, TCP services and VRRP instances of the running config on one dashboard, /metrics and
 * the action API. Loaded lazily, so a config without admin never loads prom-client.
 */
import type { Config } from "../config/index.js";
import { poolActionHandlers } from "../failover/admin.js";
import type { Logger } from "../log.js";
import { configMetrics, type SentinelCounters, sentinelMetrics } from "../metrics/table.js";
import type { ProxyService } from "../proxy/proxy.js";
import type { VrrpRuntime } from "../vrrp/runtime.js";
import { AdminServer } from "./http.js";
import type { AdminListen } from "./listen.js";
import { attachProxy, type ProxyAttachment } from "./sources/proxy.js";
import { proxyReadyChecks } from "./sources/proxy-ready.js";
import { attachReplicaSetEvents, type ReplicaSetEventsAttachment } from "./sources/replicaset.js";
import { attachTcp, type TcpBalancerLike } from "./sources/tcp.js";
import { attachVrrp } from "./sources/vrrp.js";

export interface RunAdminOptions {
  listen: AdminListen;
  token: string | undefined;
  metricsToken?: string | undefined;
  /** Where the listen setting came from ("--admin" or the config file), for refusals. */
  source: string;
  log: Logger;
}

export interface TcpView {
  balancer: TcpBalancerLike | undefined;
  listen(name: string): string;
}

export class RunAdmin {
  readonly server: AdminServer;
  private readonly proxy: ProxyAttachment;
  private readonly setEvents: ReplicaSetEventsAttachment;
  private undoTcp: (() => void) | undefined;
  private undoVrrp: (() => void) | undefined;
  private undoSentinel: (() => void) | undefined;
  private tcp: TcpView | undefined;
  /** Loads of the config file: the first at start, then every SIGHUP. */
  private readonly loads = { success: 0, failure: 0, lastOk: false, lastSuccessAt: 0 };

  constructor(opts: RunAdminOptions, proxy: ProxyService) {
    this.server = new AdminServer({
      listen: opts.listen,
      token: opts.token,
      metricsToken: opts.metricsToken,
      log: opts.log,
      source: opts.source,
    });
    // Read at each snapshot: a reload with another worker count, or a worker forked again
    // after it died, shows its new pid.
    this.server.status.setProcesses(() => ({
      pid: process.pid,
      proxyWorkers: proxy.workers?.pids() ?? [],
      tcpWorkers: this.tcp?.balancer?.workerPids?.() ?? [],
    }));
    // Pools and replica sets (members' roles and health from each set's view), and the
    // sets' manual failover action.
    this.proxy = attachProxy(this.server, proxy);
    for (const h of poolActionHandlers(proxy)) this.server.actions.register(h);
    // Their transitions (member down/warming/up, failovers, fencing) on the timeline.
    this.setEvents = attachReplicaSetEvents(proxy, this.server.events);
    for (const c of proxyReadyChecks(proxy)) this.server.ready.register(c);
    // A failed SIGHUP reload keeps the old config serving: still ready, but alertable.
    this.server.ready.register({ name: "config_loaded", ok: () => this.loads.success > 0 });
    this.server.metrics.registerSource(configMetrics, { subsystem: "config" }, () => ({
      reloads: { success: this.loads.success, failure: this.loads.failure },
      last_reload_successful: this.loads.lastOk ? 1 : 0,
      last_reload_success_timestamp_seconds: this.loads.lastSuccessAt / 1000,
    }));
  }

  /** The config file was loaded (at start or on SIGHUP), or a reload was refused or failed. */
  configLoaded(ok: boolean): void {
    this.loads.lastOk = ok;
    if (ok) {
      this.loads.success++;
      this.loads.lastSuccessAt = Date.now();
    } else this.loads.failure++;
  }

  /** (Re-)registers the TCP services after they were started or reloaded. */
  setTcp(cfg: Config, tcp: TcpView): void {
    this.tcp = tcp;
    this.undoTcp?.();
    this.undoTcp = undefined;
    if (tcp.balancer !== undefined && cfg.tcp.length > 0) {
      this.undoTcp = attachTcp(this.server, tcp.balancer, cfg.tcp, (n) => tcp.listen(n));
    }
  }

  /** The Sentinel-compatible endpoint's counters on /metrics (keepcache_sentinel_*). */
  setSentinel(counters: Readonly<SentinelCounters>): void {
    this.undoSentinel?.();
    this.undoSentinel = this.server.metrics.registerSource(
      sentinelMetrics,
      { subsystem: "sentinel" },
      () => counters,
    );
  }

  setVrrp(vrrp: VrrpRuntime | undefined): void {
    this.undoVrrp?.();
    this.undoVrrp = vrrp ? attachVrrp(this.server, vrrp) : undefined;
  }

  /** After a SIGHUP reload: new and removed pools and servers. */
  reloaded(): void {
    this.proxy.sync();
    this.setEvents.sync();
  }

  /** Call once the pools listen: registers them before the first scrape can arrive. */
  listen(): Promise<void> {
    this.proxy.sync();
    this.setEvents.sync();
    return this.server.listen();
  }

  async close(): Promise<void> {
    this.proxy.detach();
    this.setEvents.detach();
    this.undoTcp?.();
    this.undoVrrp?.();
    await this.server.close();
  }
}
