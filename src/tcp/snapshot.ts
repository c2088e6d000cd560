/**
 * The immutable routing snapshot a service's data plane reads: which servers may take new
 * connections and with what weight. Only the control plane (health transitions, reloads)
 * builds snapshots; a connection reads the current one once and never decides health itself.
 */
import type { TcpServiceConfig } from "../config/index.js";
import { formatHostPort } from "../config/schema/common.js";

export interface ServerView {
  /** "host:port", also the key of the server's counters. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Configured weight, or the misc_dynamic weight; 0 = no new connections. */
  readonly weight: number;
  readonly up: boolean;
  readonly backup: boolean;
  /** 0 = unlimited. */
  readonly maxconn: number;
  /** When it last came up after being down (ms epoch); 0 = up since start (no slowstart). */
  readonly upSince: number;
}

export interface RoutingSnapshot {
  readonly version: number;
  readonly servers: readonly ServerView[];
  readonly sorry: { host: string; port: number } | undefined;
  readonly slowstartMs: number;
}

/** What the control plane knows about one server's health. */
export interface ServerHealth {
  up: boolean;
  /** Time of the last down→up transition, 0 if never down. */
  upSince: number;
  dynamicWeight: number | undefined;
}

export type TcpServiceShape = Omit<TcpServiceConfig, "name">;

/**
 * Builds a snapshot. A down server is left out (LVS removes the real server) unless
 * inhibit_on_failure, where it stays listed with weight 0 (keepalived keeps it in the table so
 * existing connections are untouched and the operator sees it); either way it gets no new
 * connections. Established connections are never cut by a snapshot change.
 */
export function buildSnapshot(
  cfg: TcpServiceShape,
  health: (id: string) => ServerHealth | undefined,
  version: number,
): RoutingSnapshot {
  const servers: ServerView[] = [];
  for (const s of cfg.servers) {
    const id = formatHostPort(s.address.host, s.address.port);
    const h = health(id) ?? { up: true, upSince: 0, dynamicWeight: undefined };
    if (!h.up && !cfg.inhibit_on_failure) continue;
    servers.push({
      id,
      host: s.address.host,
      port: s.address.port,
      weight: h.up ? (h.dynamicWeight ?? s.weight) : 0,
      up: h.up,
      backup: s.backup,
      maxconn: s.maxconn ?? cfg.maxconn,
      upSince: h.upSince,
    });
  }
  const sorry = cfg.sorry_server
    ? { host: cfg.sorry_server.host, port: cfg.sorry_server.port }
    : undefined;
  return Object.freeze({
    version,
    servers: Object.freeze(servers),
    sorry,
    slowstartMs: cfg.slowstart,
  });
}
