/**
 * The control plane of a pool backed by a Redis Cluster (`redis_cluster: true`; its `servers`
 * are seed nodes), given to the ProxyPool in place of the default PoolControl (which it keeps
 * for control state, health checks and the operator's actions).
 *
 * Slot map: it is fetched is fetched from any node (topology.ts: CLUSTER SHARDS, else
 * CLUSTER SLOTS) at start, every `cluster_refresh_interval`, and soon after anything that says
 * it changed: a -MOVED, a node connection failing. Refreshes are single-flight and at least
 * MIN_REFRESH_GAP_MS apart, so a burst of redirects or failures costs one fetch, not one per
 * request. A map that differs from the current one becomes the pool's server list (one
 * server per master, whose replicas hang off it: node.ts) and a new routing table (table.ts).
 *
 * Data plane: the core routes by that table and the Redis driver splits multi-key commands by
 * slot. This object, as the data plane's reply hook (reply-sink.ts ReplyHook), adds what a
 * cluster client must do with the replies
 * (cluster-spec.md "Redirection and resharding"):
 *   -MOVED slot host:port  the request is sent again to that node, the slot's table entry is
 *                          pointed there at once, and a refresh is asked for;
 *   -ASK slot host:port    ASKING then the request, on that node, this once ("ASK redirection").
 * A request follows at most MAX_HOPS redirects; then the client sees the last one.
 *
 * Failover: the cluster promotes a replica itself (cluster-spec.md "Replica election and
 * promotion"); the pool follows by refreshing. Meanwhile a read whose master cannot be reached
 * waits, bounded by `cluster_failover_wait` and MAX_WAITING, for the map to name another
 * master, then goes there; anything else fails at once with the backend's name and reason,
 * because a write whose connection broke may have been applied, and sending it again could
 * apply it twice.
 */
import type { Endpoint, PoolConfig, ServerConfig } from "../../config/index.js";
import { formatEndpoint } from "../../config/schema/common.js";
import { BackendError } from "../../errors.js";
import type { Prober } from "../../health/prober.js";
import type { Logger } from "../../log.js";
import { PoolControl, type PoolControlListener, type TargetState } from "../control.js";
import type { ReplyFramer } from "../driver.js";
import type { PoolControlPlane, ProxyPool } from "../pool.js";
import { expectToken } from "../redis/reply-framer.js";
import type { ReplyHook } from "../reply-sink.js";
import type { Request } from "../request.js";
import type { RoutingTable } from "../router.js";
import { BackendServer, tooManyInFlight } from "../server.js";
import type { PoolTarget } from "../target.js";
import { type ClusterRead, ClusterNode as NodeServer, Redirected } from "./node.js";
import { parseRedirect, type Redirect } from "./redirect.js";
import type { SlotMap } from "./slot-map.js";
import { type ClusterTable, clusterTable } from "./table.js";
import { fetchSlotMap } from "./topology.js";

const ASKING = Buffer.from("*1\r\n$6\r\nASKING\r\n");
const READONLY = Buffer.from("*1\r\n$8\r\nREADONLY\r\n");
/** Redirects one request may follow (a slot moving twice during one request is already rare). */
const MAX_HOPS = 5;
const MIN_REFRESH_GAP_MS = 100;
/** Per node asked for the map: a dead node refuses at once, a silent one costs this much. */
const NODE_TIMEOUT_MS = 1000;
/** Reads held for a failover at once; more fail at once. */
const MAX_WAITING = 10_000;
const WAIT_TICK_MS = 50;

interface Waiting {
  req: Request;
  server: object & { readonly label: string };
  err: BackendError;
  deadline: number;
}

/** Slots per node and the map's age, for the dashboard and the status JSON. */
export interface ClusterStatus {
  known: boolean;
  refreshedAt: number;
  uncoveredSlots: number;
  shards: { master: string; slots: number; replicas: string[]; health: string }[];
}

function nodeLine(host: string, port: number): ServerConfig {
  const address: Endpoint = { kind: "tcp", host, port };
  const pname = `${formatEndpoint(address)}:1`;
  return { kind: "server", raw: pname, pname, address, weight: 1, name: undefined, key: "" };
}

const labelOf = (host: string, port: number): string => formatEndpoint({ kind: "tcp", host, port });

export class ClusterControl implements PoolControlPlane, ReplyHook {
  /** Control state, health checks and the operator's actions, as for any pool. */
  private readonly base: PoolControl;
  /** The operator's config (the pool runs it with the map's masters as servers: adopt). */
  private user!: PoolConfig;
  private map: SlotMap | undefined = undefined;
  private version = 0;
  /** The table last built (a -MOVED points one slot of it elsewhere, in place). */
  private current: ClusterTable | undefined = undefined;
  /** Replica servers by label (kept across refreshes with their connections). */
  private readonly replicas = new Map<string, BackendServer>();
  /** Nodes a redirect named that the map does not list yet (a new master importing slots). */
  private readonly extra = new Map<string, BackendServer>();
  private refreshing: Promise<void> | undefined = undefined;
  private again = false;
  private soon: NodeJS.Timeout | undefined = undefined;
  private lastRefresh = 0;
  private refreshedAt = 0;
  private lastGood = "";
  private timer: NodeJS.Timeout | undefined = undefined;
  private interval = 0;
  private waiting: Waiting[] = [];
  private waitTimer: NodeJS.Timeout | undefined = undefined;
  private closed = false;
  readonly keepSent = true;

  constructor(
    private readonly pool: ProxyPool,
    prober: Prober | undefined,
    private readonly log: Logger,
  ) {
    this.base = new PoolControl(pool, prober, log);
  }

  get replies(): ReplyHook {
    return this;
  }

  /** Servers from the current map (masters), or the seeds before one; no passive ejection. */
  adopt(config: PoolConfig): PoolConfig {
    this.user = config;
    if (this.interval !== config.cluster_refresh_interval) {
      clearInterval(this.timer);
      this.interval = config.cluster_refresh_interval;
      this.timer = setInterval(() => this.refreshSoon(), this.interval);
      this.timer.unref();
    }
    const map = this.map;
    const servers = map
      ? map.shards.map((s) => nodeLine(s.master.host, s.master.port))
      : config.servers;
    return { ...config, servers, auto_eject_hosts: false };
  }

  newServer(name: string, label: string, ep: Endpoint, connections: number): BackendServer {
    return new NodeServer(this.pool, name, label, ep, connections);
  }

  /** Each master's replicas, after the pool built its servers from the map (adopt). */
  configured(): void {
    this.base.configured();
    const pool = this.pool;
    const u = this.user;
    const map = this.map;
    const read: ClusterRead = u.read ?? "master";
    // READONLY is harmless on a master connection (it only changes what a replica serves),
    // so every data connection gets it and replicas need no handshake of their own.
    if (read !== "master") pool.handshake = [...pool.handshake, { request: READONLY, expect: 0 }];
    const keep = new Set<string>();
    if (map) {
      map.shards.forEach((shard, i) => {
        const node = pool.servers[i];
        if (!(node instanceof NodeServer)) return;
        node.read = read;
        node.replicas =
          read === "master"
            ? []
            : shard.replicas
                .filter((r) => !r.health.startsWith("fail"))
                .map((r) => {
                  const label = labelOf(r.host, r.port);
                  keep.add(label);
                  let s = this.replicas.get(label);
                  if (s === undefined) {
                    s = new BackendServer(
                      pool,
                      label,
                      label,
                      { kind: "tcp", host: r.host, port: r.port },
                      u.server_connections,
                    );
                    this.replicas.set(label, s);
                  }
                  return s;
                });
      });
    }
    for (const [label, s] of this.replicas)
      if (!keep.has(label)) {
        this.replicas.delete(label);
        s.retire("is no longer a replica in the cluster's slot map");
      }
    for (const [label, s] of this.extra)
      if (pool.servers.some((m) => m.label === label)) {
        this.extra.delete(label);
        s.retire("is a master in the cluster's slot map now");
      }
  }

  build(): RoutingTable<PoolTarget> {
    this.current = clusterTable(this.map, this.pool.servers, ++this.version);
    return this.current;
  }

  /** The first slot map is fetched before the listener opens (bounded by the seeds' timeouts). */
  ready(): Promise<void> {
    return this.refresh();
  }

  serverFailed(s: BackendServer, reason: string): void {
    this.base.serverFailed(s, reason);
    this.refreshSoon();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    clearTimeout(this.waitTimer);
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting)
      this.pool.plane.fail(
        w.req,
        w.server,
        new BackendError("KC_BACKEND_CLOSED", w.server.label, "pool stopped"),
        false,
      );
    for (const s of [...this.replicas.values(), ...this.extra.values()]) s.close("pool stopped");
    this.base.close();
  }

  state(t: PoolTarget | BackendServer): Readonly<TargetState> {
    return this.base.state(t);
  }

  subscribe(l: PoolControlListener): () => void {
    return this.base.subscribe(l);
  }

  drain(t: PoolTarget): void {
    this.base.drain(t);
  }

  disable(t: PoolTarget): void {
    this.base.disable(t);
  }

  enable(t: PoolTarget): void {
    this.base.enable(t);
  }

  setWeight(t: PoolTarget, weight: number): void {
    this.base.setWeight(t, weight);
  }

  // ---- slot map ----

  /** Asks for a refresh: coalesced with one in flight, at most one per MIN_REFRESH_GAP_MS. */
  refreshSoon(): void {
    if (this.closed) return;
    if (this.refreshing !== undefined) {
      this.again = true;
      return;
    }
    const gap = Date.now() - this.lastRefresh;
    if (gap < MIN_REFRESH_GAP_MS) {
      this.soon ??= setTimeout(() => {
        this.soon = undefined;
        this.refreshSoon();
      }, MIN_REFRESH_GAP_MS - gap);
      return;
    }
    void this.refresh();
  }

  /** Fetches the map from the first node that answers and adopts it if it changed. */
  refresh(): Promise<void> {
    if (this.refreshing !== undefined) return this.refreshing;
    const pool = this.pool;
    this.lastRefresh = Date.now();
    this.refreshing = this.fetchFromAny()
      .then(
        (map) => {
          pool.counters.cluster_map_refreshes++;
          this.refreshedAt = Date.now();
          if (this.closed || (this.map !== undefined && sameMap(this.map, map))) return;
          const first = this.map === undefined;
          this.map = map;
          // The pool runs the map's masters (adopt), each with its replicas (configured).
          pool.apply(this.user);
          this.log[first ? "info" : "warn"](
            {
              pool: pool.name,
              masters: map.shards.map((s) => labelOf(s.master.host, s.master.port)),
              uncovered: map.uncovered(),
            },
            first ? "cluster slot map learned" : "cluster slot map changed",
          );
        },
        (err: Error) => {
          pool.counters.cluster_map_errors++;
          this.log.warn({ pool: pool.name, err: err.message }, "cluster slot map refresh failed");
        },
      )
      .finally(() => {
        this.refreshing = undefined;
        if (this.again) {
          this.again = false;
          this.refreshSoon();
        }
      });
    return this.refreshing;
  }

  private async fetchFromAny(): Promise<SlotMap> {
    const pool = this.pool;
    const seen = new Set<string>();
    const order: { host: string; port: number }[] = [];
    const add = (host: string, port: number) => {
      const l = labelOf(host, port);
      if (seen.has(l)) return;
      seen.add(l);
      order.push({ host, port });
    };
    const last = this.map?.shards
      .flatMap((s) => [s.master, ...s.replicas])
      .find((n) => labelOf(n.host, n.port) === this.lastGood);
    if (last) add(last.host, last.port);
    for (const s of this.map?.shards ?? []) add(s.master.host, s.master.port);
    for (const s of this.map?.shards ?? []) for (const r of s.replicas) add(r.host, r.port);
    for (const s of this.user.servers)
      if (s.kind === "server" && s.address.kind === "tcp") add(s.address.host, s.address.port);
    const errors: string[] = [];
    const opts = {
      handshake: pool.handshake.filter((h) => h.request !== READONLY),
      tls: pool.serverTls,
      timeoutMs: NODE_TIMEOUT_MS,
      newFramer: () => pool.driver.newReplyFramer(),
    };
    for (const n of order) {
      try {
        const map = await fetchSlotMap(n.host, n.port, opts);
        this.lastGood = labelOf(n.host, n.port);
        return map;
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    throw new Error(`no cluster node answered: ${errors.join("; ")}`);
  }

  /** Slots per master, for the admin status and dashboard. */
  clusterStatus(): ClusterStatus {
    const map = this.map;
    const counts = map?.slotCounts() ?? [];
    return {
      known: map !== undefined,
      refreshedAt: this.refreshedAt,
      uncoveredSlots: map?.uncovered() ?? 16384,
      shards: (map?.shards ?? []).map((s, i) => ({
        master: labelOf(s.master.host, s.master.port),
        slots: counts[i],
        replicas: s.replicas.map((r) => labelOf(r.host, r.port)),
        health: s.master.health,
      })),
    };
  }

  // ---- the data plane's reply hook (reply-sink.ts ReplyHook) ----

  settle(req: Request, framer: ReplyFramer): boolean {
    // Redirects are not server errors to the framer (isError): look at the reply's first byte.
    if (framer.buf[framer.start] !== 0x2d || req.slot === null || req.retryBuf === undefined)
      return false;
    const r = parseRedirect(framer.buf, framer.start, framer.end);
    return r !== undefined && this.redirect(req, r);
  }

  /**
   * A read whose node failed waits for the map to name another master. Anything else fails at
   * once: the core's own retry is for ejections (auto_eject_hosts); here it would re-send writes.
   */
  failed(
    req: Request,
    server: object & { readonly label: string },
    err: BackendError,
    retryable: boolean,
  ): boolean {
    const slot = req.slot;
    const wait = this.user.cluster_failover_wait;
    if (
      slot === null ||
      !retryable ||
      wait <= 0 ||
      !req.idempotent ||
      req.retryBuf === undefined ||
      slot.owner.closed ||
      this.closed ||
      this.waiting.length >= MAX_WAITING
    )
      return false;
    this.pool.counters.cluster_failover_waits++;
    this.waiting.push({ req, server, err, deadline: Date.now() + wait });
    this.refreshSoon();
    this.waitTimer ??= setTimeout(() => this.tick(), WAIT_TICK_MS);
    return true;
  }

  /** Held reads whose slot has another master now go there; expired ones fail. */
  private tick(): void {
    this.waitTimer = undefined;
    const plane = this.pool.plane;
    const now = Date.now();
    const held = this.waiting;
    this.waiting = [];
    for (const w of held) {
      const req = w.req;
      const bytes = req.retryBuf as Buffer;
      const table = plane.table;
      const idx = table.picker.pick(bytes, req.keyStart, req.keyEnd);
      const target = idx >= 0 ? table.targets[idx] : undefined;
      if (req.slot?.owner.closed !== false) plane.fail(req, w.server, w.err, false);
      else if (target !== undefined && target !== w.server) this.sendAgain(req, target, false, 0);
      else if (now >= w.deadline)
        plane.fail(
          req,
          w.server,
          new BackendError(
            "KC_BACKEND_UNAVAILABLE",
            w.server.label,
            `${w.err.reason} (the cluster named no other master for its slot within cluster_failover_wait)`,
            { cause: w.err },
          ),
          false,
        );
      else this.waiting.push(w);
    }
    if (this.waiting.length > 0) {
      this.refreshSoon();
      this.waitTimer = setTimeout(() => this.tick(), WAIT_TICK_MS);
    }
  }

  /** Follows a -MOVED/-ASK for `req`; false leaves the reply to the client. */
  private redirect(req: Request, r: Redirect): boolean {
    const hops = req instanceof Redirected ? req.hops : 0;
    if (hops >= MAX_HOPS) return false;
    const host = r.host !== "" ? r.host : this.seedHost();
    const target = this.serverAt(host, r.port);
    const counters = this.pool.counters;
    if (r.kind === "moved") {
      counters.cluster_moved++;
      const idx = this.pool.servers.indexOf(target);
      if (idx >= 0 && this.current !== undefined) this.current.owner[r.slot] = idx;
      this.refreshSoon();
    } else counters.cluster_ask++;
    this.sendAgain(req, target, r.kind === "ask", hops + 1);
    return true;
  }

  /**
   * Sends `req`'s bytes again to `target` as a new request of the same slot and part (to the
   * master itself: a redirect names a master, and a held read's replica may be the one gone).
   */
  private sendAgain(req: Request, target: PoolTarget, ask: boolean, hops: number): void {
    const slot = req.slot;
    if (slot === null) return;
    let bytes = req.retryBuf as Buffer;
    let expect = req.expect;
    let shift = 0;
    if (ask) {
      // ASKING must come right before the request on the same connection (cluster-spec.md
      // "ASK redirection"): any command in between clears it. So it goes into the request's
      // own bytes, as one more reply before the client's.
      if (expect === 0) {
        bytes = Buffer.concat([ASKING, bytes]);
        expect = expectToken(1);
        shift = ASKING.length;
      }
    }
    const again = new Redirected(slot, req.part, expect, req.silent, hops);
    again.keyStart = req.keyStart + shift;
    again.keyEnd = req.keyEnd + shift;
    again.idempotent = req.idempotent;
    again.retried = true;
    const owner = slot.owner;
    if (!target.send(again, owner.id, owner.channel, bytes, 0, bytes.length, true))
      this.pool.plane.fail(again, target, tooManyInFlight(target.label), false);
  }

  /** The server for a node a redirect named: a master of the table, a replica, or a new one. */
  private serverAt(host: string, port: number): PoolTarget {
    const label = labelOf(host, port);
    const known =
      this.pool.servers.find((s) => s.label === label) ??
      this.replicas.get(label) ??
      this.extra.get(label);
    if (known !== undefined) return known;
    const s = new BackendServer(
      this.pool,
      label,
      label,
      { kind: "tcp", host, port },
      this.user.server_connections,
    );
    this.extra.set(label, s);
    return s;
  }

  private seedHost(): string {
    const s = this.user.servers[0];
    return s.kind === "server" && s.address.kind === "tcp" ? s.address.host : "127.0.0.1";
  }
}

/** Same masters for every slot, same replicas and health per shard. */
function sameMap(a: SlotMap, b: SlotMap): boolean {
  const desc = (m: SlotMap) =>
    m.shards
      .map(
        (s) =>
          `${labelOf(s.master.host, s.master.port)}/${s.master.health}<${s.replicas
            .map((r) => `${labelOf(r.host, r.port)}/${r.health}`)
            .join(",")}`,
      )
      .join(";");
  if (desc(a) !== desc(b)) return false;
  for (let slot = 0; slot < 16384; slot++) {
    const x = a.masterOf(slot);
    const y = b.masterOf(slot);
    if (x?.host !== y?.host || x?.port !== y?.port) return false;
  }
  return true;
}
