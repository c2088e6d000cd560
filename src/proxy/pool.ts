/**
 * A proxy pool (twemproxy server_pool): its listener, its backend servers, the current
 * RoutingTable (router.ts) and the control plane that swaps it: passive ejection exactly as
 * nc_server.c (server_failure: eject after `server_failure_limit` consecutive failures, back
 * after `server_retry_timeout`), and active health transitions from the shared prober.
 */

import type net from "node:net";
import type tls from "node:tls";
import type { PoolConfig } from "../config/index.js";
import type { Prober } from "../health/prober.js";
import type { Logger } from "../log.js";
import { counters, type ProxyPoolCounters, proxyPoolMetrics } from "../metrics/table.js";
import { ClientConn } from "./client.js";
import type { Plan, ProtocolDriver, ReplyFramer } from "./driver.js";
import { countFailure, markEjected } from "./eject.js";
import { type HealthWatch, probeId, watchHealth } from "./pool-health.js";
import { openListener } from "./pool-listener.js";
import { ReplicaSet } from "./replicaset/set.js";
import { Request, type Slot } from "./request.js";
import { buildTable, type RoutingTable, statsName } from "./router.js";
import { BackendServer, endpointOf } from "./server.js";
import { backendTls } from "./tls.js";

const DEFAULT_OUTPUT_LIMIT = 64 * 1024 * 1024;
const DEFAULT_MAX_REQUEST = 1024 * 1024;

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

export class ProxyPool {
  readonly counters: ProxyPoolCounters = counters(proxyPoolMetrics);
  servers: BackendServer[] = [];
  table!: RoutingTable;
  config!: PoolConfig;
  timeoutMs = 0;
  outputLimit = DEFAULT_OUTPUT_LIMIT;
  maxRequestBytes = DEFAULT_MAX_REQUEST;
  serverTls: tls.ConnectionOptions | undefined;
  handshake: Array<{ request: Buffer; expect: number }> = [];
  /** The listening socket (the primary also hands it to worker processes: workers/). */
  listener: net.Server | undefined;
  private readonly clients = new Set<ClientConn>();
  private version = 0;
  private health: HealthWatch | undefined;
  readonly driver: ProtocolDriver;

  constructor(
    config: PoolConfig,
    private readonly deps: PoolDeps,
  ) {
    this.driver = deps.driver;
    this.apply(config);
  }

  get name(): string {
    return this.config.name;
  }

  /** Adopts a (new) config: servers with the same stats name and address keep their connections. */
  apply(config: PoolConfig): void {
    const old = new Map(this.servers.map((s) => [`${s.name}|${s.label}`, s]));
    this.config = config;
    this.timeoutMs = config.timeout ?? 0;
    this.outputLimit = config.client_output_limit ?? DEFAULT_OUTPUT_LIMIT;
    this.maxRequestBytes = config.max_request_bytes ?? DEFAULT_MAX_REQUEST;
    this.serverTls = config.server_tls ? backendTls(config.server_tls) : undefined;
    this.handshake = this.driver.handshake({
      ...(config.redis_auth !== undefined ? { redisAuth: config.redis_auth } : {}),
      redisDb: config.redis_db,
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
      else next.push(new BackendServer(this, name, label, ep, config.server_connections));
    }
    for (const s of old.values()) s.retire("was removed from the pool by a reload");
    this.servers = next;
    this.rebuild();
    this.registerProbes();
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
      s.healthDown = down;
      if (down && this.config.auto_eject_hosts) markEjected(this, s);
      this.rebuild();
    });
  }

  // ---- data plane ----

  route(client: ClientConn, slot: Slot, plan: Plan): void {
    switch (plan.kind) {
      case "local":
        slot.close = plan.close === true;
        client.complete(slot, plan.reply);
        return;
      case "forward": {
        slot.silent = plan.silent;
        slot.tag = plan.tag ?? 0;
        const idx = this.table.picker.pick(plan.buf, plan.keyStart, plan.keyEnd);
        if (idx < 0) {
          this.noServer(client, slot);
          return;
        }
        const req = new Request(slot, -1, plan.expect, plan.silent);
        const retry = plan.idempotent && this.config.auto_eject_hosts;
        // The key keeps its offset relative to the frame in a rewrite (driver contract).
        req.keyStart = plan.keyStart - plan.frameStart;
        req.keyEnd = plan.keyEnd - plan.frameStart;
        req.readOnly = plan.readOnly;
        req.idempotent = plan.idempotent;
        const ok =
          plan.rewrite !== undefined
            ? this.servers[idx].send(
                req,
                client.id,
                client.channel,
                plan.rewrite,
                0,
                plan.rewrite.length,
                retry,
              )
            : this.servers[idx].send(
                req,
                client.id,
                client.channel,
                plan.buf,
                plan.frameStart,
                plan.frameEnd,
                retry,
              );
        if (!ok) this.refuse(slot, this.servers[idx]);
        return;
      }
      case "broadcast": {
        slot.silent = plan.silent;
        slot.tag = plan.tag ?? 0;
        slot.merger = plan.merge;
        const live = this.servers.filter((_, i) => this.table.servers[i].live);
        if (live.length === 0) {
          this.noServer(client, slot);
          return;
        }
        slot.pending = live.length;
        live.forEach((s, i) => {
          const req = new Request(slot, i, plan.expect, plan.silent);
          if (!s.send(req, client.id, client.channel, plan.request, 0, plan.request.length, false))
            this.failRequest(req, s, "has too many requests in flight", false);
        });
        return;
      }
      case "split": {
        slot.silent = plan.silent;
        slot.tag = plan.tag ?? 0;
        slot.merger = plan.merge;
        slot.pending = plan.parts.length;
        this.counters.fragments += plan.parts.length;
        const retry = this.config.auto_eject_hosts;
        for (let i = 0; i < plan.parts.length; i++) {
          const p = plan.parts[i];
          const idx = this.table.picker.pick(p.keyBuf, p.keyStart, p.keyEnd);
          const req = new Request(slot, i, plan.expect, plan.silent);
          if (idx < 0) {
            this.counters.forward_error++;
            this.partFailed(req, `keepcache: no live server in pool ${this.name}`);
            continue;
          }
          const canRetry = retry && p.keyBuf === p.request;
          req.keyStart = p.keyStart;
          req.keyEnd = p.keyEnd;
          if (
            !this.servers[idx].send(
              req,
              client.id,
              client.channel,
              p.request,
              0,
              p.request.length,
              canRetry,
            )
          )
            this.failRequest(req, this.servers[idx], "has too many requests in flight", false);
        }
        return;
      }
    }
  }

  private noServer(client: ClientConn, slot: Slot): void {
    this.counters.forward_error++;
    client.complete(slot, client.failReply(slot, `keepcache: no live server in pool ${this.name}`));
  }

  private refuse(slot: Slot, s: BackendServer): void {
    this.counters.forward_error++;
    slot.owner.complete(
      slot,
      slot.owner.failReply(slot, `keepcache: backend ${s.label} has too many requests in flight`),
    );
  }

  /** A reply for `req` is framed in `framer`. */
  settle(req: Request, framer: ReplyFramer): void {
    const slot = req.slot;
    if (slot === null) {
      if (framer.isError)
        this.deps.log.warn(
          {
            pool: this.name,
            reply: framer.buf.toString(
              "latin1",
              framer.start,
              Math.min(framer.end, framer.start + 200),
            ),
          },
          "backend rejected the connection handshake",
        );
      return;
    }
    const owner = slot.owner;
    if (req.part >= 0) {
      if (!owner.closed && slot.merger !== null)
        slot.merger.add(req.part, Buffer.from(framer.buf.subarray(framer.start, framer.end)));
      if (--slot.pending === 0) owner.complete(slot, null);
      return;
    }
    if (req.silent && framer.droppable) {
      if (framer.isError) this.counters.silent_errors_dropped++;
      owner.complete(slot, null);
      return;
    }
    owner.deliver(slot, framer.buf, framer.start, framer.end);
  }

  private partFailed(req: Request, message: string): void {
    const slot = req.slot;
    if (slot === null) return;
    slot.merger?.fail(req.part, message);
    if (--slot.pending === 0) slot.owner.complete(slot, null);
  }

  /**
   * `req` could not be served by `server`. With auto_eject_hosts an idempotent request is sent
   * once more, to the server that owns its key in the current table (after an ejection: another).
   */
  failRequest(req: Request, server: BackendServer, reason: string, retryable: boolean): void {
    const slot = req.slot;
    if (slot === null) return;
    if (retryable && req.retryBuf !== undefined && !req.retried && !slot.owner.closed) {
      const idx = this.table.picker.pick(req.retryBuf, req.keyStart, req.keyEnd);
      const target = idx >= 0 ? this.servers[idx] : undefined;
      if (target !== undefined && target !== server) {
        const again = new Request(slot, req.part, req.expect, req.silent);
        again.retried = true;
        again.keyStart = req.keyStart;
        again.keyEnd = req.keyEnd;
        if (
          target.send(
            again,
            slot.owner.id,
            slot.owner.channel,
            req.retryBuf,
            0,
            req.retryBuf.length,
            false,
          )
        ) {
          this.counters.retries++;
          return;
        }
      }
    }
    const message = `keepcache: backend ${server.label} ${reason}`;
    this.counters.forward_error++;
    if (req.part >= 0) {
      this.partFailed(req, message);
      return;
    }
    const reply = slot.owner.failReply(slot, message);
    if (reply.length === 0) this.counters.silent_errors_dropped++;
    slot.owner.complete(slot, reply);
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
