/**
 * A proxy pool (twemproxy server_pool): its listener and clients, its servers and replica sets,
 * and two parts it owns: the data plane (dispatch.ts) that routes requests by the current
 * RoutingTable (router.ts), and a control plane that builds and swaps that table. In the
 * primary process the control plane is a PoolControl (control.ts: ejection, health verdicts,
 * the operator); in a worker process it follows the primary's tables (workers/worker-pool.ts);
 * a Redis Cluster pool's builds them from the cluster's slot map and is also the data plane's
 * reply hook for redirects (cluster/control.ts).
 */

import type net from "node:net";
import type tls from "node:tls";
import type { Endpoint, PoolConfig } from "../config/index.js";
import { formatEndpoint } from "../config/schema/common.js";
import type { Prober } from "../health/prober.js";
import type { Logger } from "../log.js";
import { counters, type ProxyPoolCounters, proxyPoolMetrics } from "../metrics/table.js";
import { ClientConn, type ClientPool } from "./client.js";
import { type ControlledPool, PoolControl, type PoolControlListener } from "./control.js";
import { DataPlane } from "./dispatch.js";
import type { CommandPolicy, HandshakeStep, ProtocolDriver } from "./driver.js";
import { openListener } from "./pool-listener.js";
import type { SetControllerFactory } from "./replicaset/control.js";
import { ReplicaSet, type SetPool, setLabel } from "./replicaset/set.js";
import type { ReplyHook } from "./reply-sink.js";
import type { RoutingTable } from "./router.js";
import { statsName } from "./router.js";
import { BackendServer } from "./server.js";
import type { PoolTarget } from "./target.js";
import type { TargetState } from "./target-state.js";
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
  /** Builds each replica set's controller (control.ts): injected, the proxy decides nothing. */
  setControllers: SetControllerFactory;
  /** Called after every table swap (the primary pushes tables to worker processes). */
  onTable?: (pool: ProxyPool) => void;
  /**
   * The control plane that builds the pool's tables: a worker process's follower of the
   * primary's tables; by default the deciding PoolControl (control.ts).
   */
  control?: (pool: ProxyPool) => PoolControlPlane;
}

/**
 * What builds a pool's routing tables, hears of its servers' failures and holds their control
 * state: PoolControl (control.ts) where it is decided, a follower in a worker process.
 */
export interface PoolControlPlane {
  /** A table for the pool's current servers (called after every change that may move keys). */
  build(): RoutingTable<PoolTarget>;
  /** One failure of `s` on the data path (a connection failed or timed out). */
  serverFailed(s: BackendServer, reason: string): void;
  /** The pool adopted a config: its list of servers may have changed. */
  configured(): void;
  close(): void;
  /** The control state of a server, member or set. */
  state(t: PoolTarget | BackendServer): Readonly<TargetState>;
  /** Control state changes as they happen (after the table swap for them). */
  subscribe(l: PoolControlListener): () => void;
  /** The operator's actions (admin API): control.ts. */
  drain(t: PoolTarget): void;
  disable(t: PoolTarget): void;
  enable(t: PoolTarget): void;
  setWeight(t: PoolTarget, weight: number): void;
  /**
   * The config the pool runs for the operator's `config` (a Redis Cluster pool lists its slot
   * map's masters as servers: cluster/control.ts). Without it: the config as given.
   */
  adopt?(config: PoolConfig): PoolConfig;
  /** The server for one config server line. Without it: a BackendServer. */
  newServer?(name: string, label: string, ep: Endpoint, connections: number): BackendServer;
  /** Awaited before the listener opens (a cluster pool's first slot map). */
  ready?(): Promise<void>;
  /** Sees the data plane's replies and failures first (reply-sink.ts ReplyHook). */
  readonly replies?: ReplyHook;
}

export class ProxyPool implements ClientPool, SetPool, ControlledPool {
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
  readonly driver: ProtocolDriver;
  readonly counters: ProxyPoolCounters = counters(proxyPoolMetrics);
  /** Routes requests by the current table (shared by every client and server of the pool). */
  readonly plane: DataPlane;
  /** Builds and swaps the table. */
  readonly control: PoolControlPlane;
  /** The servers and replica sets of the config, in its order (the table's indexes). */
  servers: PoolTarget[] = [];
  /** The config the pool runs (the control plane's adopt of `given`). */
  config!: PoolConfig;
  /** The config as the operator gave it (what worker processes are sent: workers/primary.ts). */
  given!: PoolConfig;

  constructor(
    config: PoolConfig,
    private readonly deps: PoolDeps,
  ) {
    this.driver = deps.driver;
    this.plane = new DataPlane(this.counters, deps.log);
    this.control = deps.control?.(this) ?? new PoolControl(this, deps.prober, deps.log);
    this.plane.setHook(this.control.replies);
    this.apply(config);
  }

  get name(): string {
    return this.config.name;
  }

  /** The current routing table. */
  get table(): RoutingTable<PoolTarget> {
    return this.plane.table;
  }

  /** Adopts a (new) config: servers with the same stats name and address keep their connections. */
  apply(operatorConfig: PoolConfig): void {
    const config = this.control.adopt?.(operatorConfig) ?? operatorConfig;
    this.given = operatorConfig;
    const old = new Map(this.servers.map((s) => [`${s.name}|${s.label}`, s]));
    this.config = config;
    this.plane.config = config;
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
    const next: PoolTarget[] = [];
    for (const s of config.servers) {
      const name = s.kind === "server" ? statsName(s) : s.name;
      const label = s.kind === "server" ? formatEndpoint(s.address) : setLabel(s);
      const key = `${name}|${label}`;
      const kept = old.get(key);
      if (kept) {
        old.delete(key);
        next.push(kept);
      } else if (s.kind === "replicaset") next.push(new ReplicaSet(this, s, label, this.deps));
      else {
        const conns = config.server_connections;
        next.push(
          this.control.newServer?.(name, label, s.address, conns) ??
            new BackendServer(this, name, label, s.address, conns),
        );
      }
    }
    for (const s of old.values()) s.retire("was removed from the pool by a reload");
    this.servers = next;
    this.control.configured();
    this.rebuild();
  }

  /**
   * The requests a new backend connection of `channel` (ClientParser.channel) opens with: the
   * pool's handshake, then the driver's for the channel (Redis RESP3: HELLO 3). Read once per
   * connection, after any control plane's additions (a cluster pool's READONLY).
   */
  handshakeFor(channel: number): readonly HandshakeStep[] {
    const extra = channel > 0 ? this.driver.channelHandshake?.(channel) : undefined;
    return extra === undefined || extra.length === 0
      ? this.handshake
      : [...this.handshake, ...extra];
  }

  /** Builds and swaps a new routing table from the servers' current states. */
  rebuild(): void {
    this.plane.table = this.control.build();
    this.deps.onTable?.(this);
  }

  /** One failure of `s` (a connection failed or timed out): the control plane counts it. */
  serverFailed(s: BackendServer, reason: string): void {
    this.control.serverFailed(s, reason);
  }

  // ---- listener ----

  async listen(): Promise<net.AddressInfo | string> {
    await this.control.ready?.();
    const { server, address } = await openListener(this.config, (sock) => this.accept(sock));
    this.listener = server;
    server.on("error", (err) => this.deps.log.error({ pool: this.name, err }, "listener error"));
    if (this.config.preconnect) for (const s of this.servers) s.preconnect();
    return address;
  }

  accept(sock: net.Socket): void {
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
    this.control.close();
    const srv = this.listener;
    this.listener = undefined;
    const closed = srv ? new Promise<void>((r) => srv.close(() => r())) : Promise.resolve();
    for (const c of [...this.clients]) c.destroy();
    for (const s of this.servers) s.close("pool stopped");
    await closed;
  }
}
