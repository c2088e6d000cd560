/**
 * Wires the TCP balancer (src/tcp) into an AdminServer: a "tcp" status provider per service
 * and keepcache_tcp_service_* / keepcache_tcp_server_* metrics. Typed structurally on the
 * balancer's public surface (services, their counters and routing snapshot), which the TCP
 * engineer keeps stable while the data plane changes underneath.
 */
import type { TcpServiceConfig } from "../../config/index.js";
import { tcpServerMetrics, tcpServiceMetrics } from "../../metrics/table.js";
import type { AdminServer } from "../http.js";
import type { Health, TcpServiceStatus } from "../status.js";

interface Counts {
  [k: string]: number;
}

export interface TcpServiceLike {
  readonly counters: object;
  readonly serverCounters: ReadonlyMap<string, object>;
  snapshot(): { servers: readonly { id: string; weight: number; up: boolean }[] };
}

export interface TcpBalancerLike {
  readonly services: ReadonlyMap<string, TcpServiceLike>;
  /** Counters across worker processes, open connections' bytes included (when offered). */
  liveCounters?(name: string): { service: object; servers: Record<string, object> } | undefined;
  /** Process ids of its worker processes (the admin status's `processes`). */
  workerPids?(): number[];
}

function idOf(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function counts(b: TcpBalancerLike, name: string) {
  const svc = b.services.get(name);
  if (svc === undefined) return undefined;
  const live = b.liveCounters?.(name);
  if (live !== undefined) {
    return { service: live.service as Counts, servers: live.servers as Record<string, Counts> };
  }
  return {
    service: svc.counters as Counts,
    servers: Object.fromEntries(svc.serverCounters) as Record<string, Counts>,
  };
}

export function tcpStatus(
  b: TcpBalancerLike,
  cfg: TcpServiceConfig,
  listen: string,
): TcpServiceStatus {
  const svc = b.services.get(cfg.name);
  if (svc === undefined) throw new Error("service stopped");
  const c = counts(b, cfg.name);
  const views = new Map(svc.snapshot().servers.map((v) => [v.id, v]));
  return {
    name: cfg.name,
    listen,
    algorithm: cfg.balance,
    active: c?.service.active ?? 0,
    connectionsTotal: c?.service.connectionsTotal ?? 0,
    servers: cfg.servers.map((s) => {
      const id = idOf(s.address.host, s.address.port);
      const v = views.get(id);
      // Left out of the snapshot = down (LVS removes a failed real server).
      const health: Health = v === undefined || !v.up ? "down" : v.weight === 0 ? "draining" : "up";
      return {
        name: s.backup ? `${id} (backup)` : id,
        address: id,
        health,
        weight: v?.weight ?? s.weight,
        active: c?.servers[id]?.active ?? 0,
      };
    }),
  };
}

/** Registers every configured service; returns the undo. `listen` maps name -> bound address. */
export function attachTcp(
  admin: AdminServer,
  b: TcpBalancerLike,
  services: readonly TcpServiceConfig[],
  listen: (name: string) => string,
): () => void {
  const undo: (() => void)[] = [];
  for (const cfg of services) {
    const name = cfg.name;
    undo.push(
      admin.status.register({ kind: "tcp", name, snapshot: () => tcpStatus(b, cfg, listen(name)) }),
      admin.metrics.registerSource(
        tcpServiceMetrics,
        { subsystem: "tcp_service", labels: { service: name } },
        () => counts(b, name)?.service,
      ),
    );
    for (const s of cfg.servers) {
      const id = idOf(s.address.host, s.address.port);
      undo.push(
        admin.metrics.registerSource(
          tcpServerMetrics,
          { subsystem: "tcp_server", labels: { service: name, server: id } },
          () => {
            const c = counts(b, name)?.servers[id];
            const svc = b.services.get(name);
            if (svc === undefined) return undefined;
            // Left out of the snapshot or marked down = down (LVS removes a failed real server).
            const up = svc.snapshot().servers.some((v) => v.id === id && v.up);
            return { ...(c ?? {}), up: up ? 1 : 0 };
          },
        ),
      );
    }
  }
  return () => {
    for (const u of undo) u();
  };
}
