/**
 * A proxy pool (twemproxy server_pool): its listener, its backend servers, the current
 * RoutingTable (router.ts) and the control plane that swaps it: passive ejection exactly as
 * nc_server.c (server_failure: eject after `server_failure_limit` consecutive failures, back
 * after `server_retry_timeout`), and active health transitions from the shared prober. The
 * data plane that routes requests by the table (route, settle, failRequest) is the base
 * class, dispatch.ts.
 */

import type net from "node:net";
import type tls from "node:tls";
import type { Endpoint, PoolConfig } from "../config/index.js";
import type { Prober } from "../health/prober.js";
import type { Logger } from "../log.js";
import { ClientConn } from "./client.js";
import { PoolDataPlane } from "./dispatch.js";
import type { CommandPolicy, HandshakeStep, ProtocolDriver } from "./driver.js";
import { countFailure, setHealthDown } from "./eject.js";
import { type HealthWatch, probeId, watchHealth } from "./pool-health.js";
import { openListener } from "./pool-listener.js";
import { ReplicaSet } from "./replicaset/set.js";
import { buildTable, statsName } from "./router.js";
import { BackendServer, endpointOf } from "./server.js";
import { backendTls } from "./tls.js";

const DEFAULT_OUTPUT_LIMIT = 64 * 1024 * 1024;
/** Redis pools: the largest value Redis accepts, plus room for the replies around it. */
const DEFAULT_OUTPUT_LIMIT_REDIS = 512 * 1024 * 1024 + DEFAULT_OUTPUT_LIMIT;
const DEFAULT_MAX_REQUEST = 1024 * 1024;
/** Redis accepts bulks up to 512 MB by default (redis.conf proto-max-bulk-len). */
const DEFAULT_MAX_REQUEST_REDIS = 512 * 1024 * 1024;

export interface PoolDeps {
  driver: ProtocolDriver;
  prober: Prober | undefined;
  log: Logger;
  /** Process-wide connection counters (stats port total_connections / curr_connections). */
  global: { total_connections: number; curr_connections: number };
  /** Called after every table swap (the primary pushes tables to worker processes). */
  onTable?: (pool: ProxyPool) => void;
}

/** Taken out of routing through the admin API (drain, disable, weight 0). */
function operatorOut(s: BackendServer): boolean {
  return s.adminState !== "enabled" || s.weightOverride === 0;
}

export class ProxyPool extends PoolDataPlane {
  timeoutMs = 0;
  outputLimit = DEFAULT_OUTPUT_LIMIT;
  maxRequestBytes = DEFAULT_MAX_REQUEST;
  /** Dedicated connections per server (dedicated.ts). */
  dedicatedLimit = 256;
  serverTls: tls.ConnectionOptions | undefined;
  handshake: HandshakeStep[] = [];
  /** The driver's compiled allow_commands / deny_commands and default refusals. */
  commandPolicy: CommandPolicy | undefined;
  /** The listening socket (the primary also hands it to worker processes: workers/). */
  listener: net.Server | undefined;
  private readonly clients = new Set<ClientConn>();
  private version = 0;
  private health: HealthWatch | undefined;
  readonly driver: ProtocolDriver;

  constructor(
    config: PoolConfig,
    protected readonly deps: PoolDeps,
  ) {
    super(deps.log);
    this.driver = deps.driver;
    this.apply(config);
  }

  /** Adopts a (new) config: servers with the same stats name and address keep their connections. */
  apply(config: PoolConfig): void {
    const old = new Map(this.servers.map((s) => [`${s.name}|${s.label}`, s]));
    this.config = config;
    this.timeoutMs = config.timeout ?? 0;
    this.outputLimit =
      config.client_output_limit ??
      (config.redis ? DEFAULT_OUTPUT_LIMIT_REDIS : DEFAULT_OUTPUT_LIMIT);
    this.maxRequestBytes =
      config.max_request_bytes ?? (config.redis ? DEFAULT_MAX_REQUEST_REDIS : DEFAULT_MAX_REQUEST);
    this.dedicatedLimit = config.redis_dedicated_connections;
    this.serverTls = config.server_tls ? backendTls(config.server_tls) : undefined;
    this.handshake = this.driver.handshake({
      ...(config.redis_auth !== undefined ? { redisAuth: config.redis_auth } : {}),
      redisDb: config.redis_db,
      ...(config.redis_user !== undefined
        ? { redisUser: { name: config.redis_user, password: config.redis_user_password ?? "" } }
        : {}),
    });
    this.commandPolicy = this.driver.commandPolicy?.({
      allowCommands: config.allow_commands,
      denyCommands: config.deny_commands,
      backendAcl: config.redis_user !== undefined,
    });
    const next: BackendServer[] = [];
    for (const s of config.servers) {
      const name = s.kind === "server" ? statsName(s) : s.name;
      const { ep, label } = endpointOf(s);
      const key = `${name}|${label}`;
      const kept = old.get(key);
      if (kept) {
        old.delete(key);
        next.push(kept);
      } else if (s.kind === "replicaset") next.push(new ReplicaSet(this, s, label, this.deps));
      else next.push(this.newServer(name, label, ep, config.server_connections));
    }
    for (const s of old.values()) s.retire("was removed from the pool by a reload");
    this.servers = next;
    this.rebuild();
    this.registerProbes();
  }

  /** Seam: the server object for one config server line (cluster/pool.ts adds replica reads). */
  protected newServer(
    name: string,
    label: string,
    ep: Endpoint,
    connections: number,
  ): BackendServer {
    return new BackendServer(this, name, label, ep, connections);
  }

  /** Builds and swaps a new routing table from the servers' current states. */
  rebuild(): void {
    const eject = this.config.auto_eject_hosts;
    this.table = buildTable(
      this.config,
      this.config.servers.map((s, i) => {
        const srv = this.servers[i];
        const weight = srv.weightOverride ?? s.weight;
        // A replica set stays live (its members fail over inside it; keys never move).
        if (srv instanceof ReplicaSet)
          return {
            key: s.key,
            weight: Math.max(1, weight),
            live: !operatorOut(srv),
            set: srv.view,
          };
        return {
          key: s.key,
          weight: Math.max(1, weight),
          live: !operatorOut(srv) && (!eject || (srv.ejectedUntil === 0 && !srv.healthDown)),
        };
      }),
      ++this.version,
    );
    // A pool of one routes without hashing (server_pool_idx), so the table's live flag is not
    // consulted; an operator's drain/disable/weight 0 must still stop new requests to it.
    if (this.servers.length === 1 && operatorOut(this.servers[0])) {
      this.table = { ...this.table, picker: { live: 0, pick: () => -1 } };
    }
    this.deps.onTable?.(this);
  }

  private registerProbes(): void {
    this.health?.stop();
    this.health = undefined;
    const prober = this.deps.prober;
    if (!prober || !(this.config.auto_eject_hosts || this.config.health)) return;
    this.health = watchHealth(this, prober, (s, down, reason) => {
      this.deps.log.warn(
        { pool: this.name, server: s.label, state: down ? "down" : "up", reason },
        "health check transition",
      );
      setHealthDown(this, s, down);
      this.rebuild();
    });
  }

  // ---- control plane ----

  /** One failure of `s` (a connection failed or timed out): nc_server.c server_failure. */
  serverFailed(s: BackendServer, reason: string): void {
    this.deps.prober?.reportFailure(probeId(this, s), reason);
    countFailure(this, this.deps.log, s, reason);
  }

  // ---- listener ----

  async listen(): Promise<net.AddressInfo | string> {
    const { server, address } = await openListener(this.config, (sock) => this.accept(sock));
    this.listener = server;
    server.on("error", (err) => this.deps.log.error({ pool: this.name, err }, "listener error"));
    if (this.config.preconnect) for (const s of this.servers) s.preconnect();
    return address;
  }

  protected accept(sock: net.Socket): void {
    const limit = this.config.client_connections;
    if (limit > 0 && this.clients.size >= limit) {
      this.counters.rejected_connections++;
      sock.destroy();
      return;
    }
    this.counters.total_connections++;
    this.counters.client_connections++;
    this.deps.global.total_connections++;
    this.deps.global.curr_connections++;
    this.clients.add(new ClientConn(sock, this));
  }

  clientClosed(c: ClientConn): void {
    // A client gone mid-BLPOP or in subscriber mode: its dedicated connection goes too.
    c.lease?.drop("client closed its connection");
    if (!this.clients.delete(c)) return;
    this.counters.client_connections--;
    this.deps.global.curr_connections--;
  }

  /** Stops listening, closes clients and backends, removes probes. */
  async close(): Promise<void> {
    this.health?.stop();
    this.health = undefined;
    const srv = this.listener;
    this.listener = undefined;
    const closed = srv ? new Promise<void>((r) => srv.close(() => r())) : Promise.resolve();
    for (const c of [...this.clients]) c.destroy();
    for (const s of this.servers) {
      s.close("pool stopped");
      if (s.ejectTimer) clearTimeout(s.ejectTimer);
    }
    await closed;
  }
}
