/**
 * A pool backed by a Redis Cluster (`redis_cluster: true`; its `servers` are seed nodes).
 *
 * Control plane: the slot map is fetched from any node (topology.ts: CLUSTER SHARDS, else
 * CLUSTER SLOTS) at start, every `cluster_refresh_interval`, and soon after anything that says
 * it changed: a -MOVED, a node connection failing. Refreshes are single-flight and at least
 * MIN_REFRESH_GAP_MS apart, so a burst of redirects or failures costs one fetch, not one per
 * request. A map that differs from the current one becomes the pool's server list (one
 * server per master, whose replicas hang off it: node.ts) and a new routing table (table.ts).
 *
 * Data plane: the core routes by that table and the Redis driver splits multi-key commands by
 * slot. This class adds what a cluster client must do with the replies
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
import type net from "node:net";
import type { Endpoint, PoolConfig, ServerConfig } from "../../config/index.js";
import { formatEndpoint } from "../../config/schema/common.js";
import type { ReplyFramer } from "../driver.js";
import { type PoolDeps, ProxyPool } from "../pool.js";
import { HELLO3 } from "../redis/planner.js";
import { expectAfter, expectBefore, expectToken } from "../redis/reply-framer.js";
import type { Request } from "../request.js";
import { BackendServer } from "../server.js";
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
  server: BackendServer;
  reason: string;
  deadline: number;
}

/** Slots per node and the map's age, for the dashboard and the status JSON. */
export interface ClusterStatus {
  known: boolean;
  refreshedAt: number;
  uncoveredSlots: number;
  shards: { master: string; slots: number; replicas: string[]; health: string }[];
}

class Runtime {
  user!: PoolConfig;
  map: SlotMap | undefined = undefined;
  version = 0;
  /** Replica servers by label (kept across refreshes with their connections). */
  readonly replicas = new Map<string, BackendServer>();
  /** Nodes a redirect named that the map does not list yet (a new master importing slots). */
  readonly extra = new Map<string, BackendServer>();
  refreshing: Promise<void> | undefined = undefined;
  again = false;
  soon: NodeJS.Timeout | undefined = undefined;
  lastRefresh = 0;
  refreshedAt = 0;
  lastGood = "";
  timer: NodeJS.Timeout | undefined = undefined;
  waiting: Waiting[] = [];
  waitTimer: NodeJS.Timeout | undefined = undefined;
  closed = false;
}

function nodeLine(host: string, port: number): ServerConfig {
  const address: Endpoint = { kind: "tcp", host, port };
  const pname = `${formatEndpoint(address)}:1`;
  return { kind: "server", raw: pname, pname, address, weight: 1, name: undefined, key: "" };
}

const labelOf = (host: string, port: number): string => formatEndpoint({ kind: "tcp", host, port });

export class ClusterPool extends ProxyPool {
  // Set by apply(), which the base constructor calls before this class's fields would be
  // initialised: `declare` keeps TypeScript from emitting a field that would reset it.
  declare private rt: Runtime;

  constructor(config: PoolConfig, deps: PoolDeps) {
    super(config, deps);
    this.keepSent = true;
  }

  override apply(config: PoolConfig): void {
    if (this.rt === undefined) this.rt = new Runtime();
    this.rt.user = config;
    this.adoptMap();
    if (this.rt.timer !== undefined) clearInterval(this.rt.timer);
    this.rt.timer = setInterval(() => this.refreshSoon(), config.cluster_refresh_interval);
    this.rt.timer.unref();
  }

  /** Servers from the current map (masters, with their replicas), or the seeds before one. */
  private adoptMap(): void {
    const rt = this.rt;
    const u = rt.user;
    const map = rt.map;
    const servers = map ? map.shards.map((s) => nodeLine(s.master.host, s.master.port)) : u.servers;
    super.apply({ ...u, servers, auto_eject_hosts: false });
    const read: ClusterRead = u.read ?? "master";
    // READONLY is harmless on a master connection (it only changes what a replica serves),
    // so every data connection gets it and replicas need no handshake of their own.
    if (read !== "master") this.handshake = [...this.handshake, { request: READONLY, expect: 0 }];
    const keep = new Set<string>();
    if (map) {
      map.shards.forEach((shard, i) => {
        const node = this.servers[i];
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
                  let s = rt.replicas.get(label);
                  if (s === undefined) {
                    s = new BackendServer(
                      this,
                      label,
                      label,
                      { kind: "tcp", host: r.host, port: r.port },
                      u.server_connections,
                    );
                    rt.replicas.set(label, s);
                  }
                  return s;
                });
      });
    }
    for (const [label, s] of rt.replicas)
      if (!keep.has(label)) {
        rt.replicas.delete(label);
        s.retire("is no longer a replica in the cluster's slot map");
      }
    for (const [label, s] of rt.extra)
      if (this.servers.some((m) => m.label === label)) {
        rt.extra.delete(label);
        s.retire("is a master in the cluster's slot map now");
      }
  }

  protected override newServer(
    name: string,
    label: string,
    ep: Endpoint,
    connections: number,
  ): BackendServer {
    return new NodeServer(this, name, label, ep, connections);
  }

  override rebuild(): void {
    this.table = clusterTable(this.rt.map, this.servers, ++this.rt.version);
    this.deps.onTable?.(this);
  }

  /** The first slot map is fetched before the listener opens (bounded by the seeds' timeouts). */
  override async listen(): Promise<net.AddressInfo | string> {
    await this.refresh();
    return super.listen();
  }

  override async close(): Promise<void> {
    const rt = this.rt;
    rt.closed = true;
    clearInterval(rt.timer);
    clearTimeout(rt.soon);
    clearTimeout(rt.waitTimer);
    const waiting = rt.waiting;
    rt.waiting = [];
    for (const w of waiting) super.failRequest(w.req, w.server, "pool stopped", false);
    for (const s of [...rt.replicas.values(), ...rt.extra.values()]) s.close("pool stopped");
    await super.close();
  }

  // ---- slot map ----

  /** Asks for a refresh: coalesced with one in flight, at most one per MIN_REFRESH_GAP_MS. */
  refreshSoon(): void {
    const rt = this.rt;
    if (rt.closed) return;
    if (rt.refreshing !== undefined) {
      rt.again = true;
      return;
    }
    const gap = Date.now() - rt.lastRefresh;
    if (gap < MIN_REFRESH_GAP_MS) {
      rt.soon ??= setTimeout(() => {
        rt.soon = undefined;
        this.refreshSoon();
      }, MIN_REFRESH_GAP_MS - gap);
      return;
    }
    void this.refresh();
  }

  /** Fetches the map from the first node that answers and adopts it if it changed. */
  refresh(): Promise<void> {
    const rt = this.rt;
    if (rt.refreshing !== undefined) return rt.refreshing;
    rt.lastRefresh = Date.now();
    rt.refreshing = this.fetchFromAny()
      .then(
        (map) => {
          this.counters.cluster_map_refreshes++;
          rt.refreshedAt = Date.now();
          if (rt.closed || (rt.map !== undefined && sameMap(rt.map, map))) return;
          const first = rt.map === undefined;
          rt.map = map;
          this.adoptMap();
          this.log[first ? "info" : "warn"](
            {
              pool: this.name,
              masters: map.shards.map((s) => labelOf(s.master.host, s.master.port)),
              uncovered: map.uncovered(),
            },
            first ? "cluster slot map learned" : "cluster slot map changed",
          );
        },
        (err: Error) => {
          this.counters.cluster_map_errors++;
          this.log.warn({ pool: this.name, err: err.message }, "cluster slot map refresh failed");
        },
      )
      .finally(() => {
        rt.refreshing = undefined;
        if (rt.again) {
          rt.again = false;
          this.refreshSoon();
        }
      });
    return rt.refreshing;
  }

  private async fetchFromAny(): Promise<SlotMap> {
    const rt = this.rt;
    const seen = new Set<string>();
    const order: { host: string; port: number }[] = [];
    const add = (host: string, port: number) => {
      const l = labelOf(host, port);
      if (seen.has(l)) return;
      seen.add(l);
      order.push({ host, port });
    };
    const last = rt.map?.shards
      .flatMap((s) => [s.master, ...s.replicas])
      .find((n) => labelOf(n.host, n.port) === rt.lastGood);
    if (last) add(last.host, last.port);
    for (const s of rt.map?.shards ?? []) add(s.master.host, s.master.port);
    for (const s of rt.map?.shards ?? []) for (const r of s.replicas) add(r.host, r.port);
    for (const s of rt.user.servers)
      if (s.kind === "server" && s.address.kind === "tcp") add(s.address.host, s.address.port);
    const errors: string[] = [];
    const opts = {
      handshake: this.handshake.filter((h) => h.request !== READONLY),
      tls: this.serverTls,
      timeoutMs: NODE_TIMEOUT_MS,
      newFramer: () => this.driver.newReplyFramer(),
    };
    for (const n of order) {
      try {
        const map = await fetchSlotMap(n.host, n.port, opts);
        rt.lastGood = labelOf(n.host, n.port);
        return map;
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    throw new Error(`no cluster node answered: ${errors.join("; ")}`);
  }

  /** Slots per master, for the admin status and dashboard. */
  clusterStatus(): ClusterStatus {
    const map = this.rt.map;
    const counts = map?.slotCounts() ?? [];
    return {
      known: map !== undefined,
      refreshedAt: this.rt.refreshedAt,
      uncoveredSlots: map?.uncovered() ?? 16384,
      shards: (map?.shards ?? []).map((s, i) => ({
        master: labelOf(s.master.host, s.master.port),
        slots: counts[i],
        replicas: s.replicas.map((r) => labelOf(r.host, r.port)),
        health: s.master.health,
      })),
    };
  }

  // ---- data plane hooks ----

  override settle(req: Request, framer: ReplyFramer): void {
    // Redirects are not server errors to the framer (isError): look at the reply's first byte.
    if (framer.buf[framer.start] === 0x2d && req.slot !== null && req.retryBuf !== undefined) {
      const r = parseRedirect(framer.buf, framer.start, framer.end);
      if (r !== undefined && this.redirect(req, r)) return;
    }
    super.settle(req, framer);
  }

  override serverFailed(s: BackendServer, reason: string): void {
    super.serverFailed(s, reason);
    this.refreshSoon();
  }

  override failRequest(
    req: Request,
    server: BackendServer,
    reason: string,
    retryable: boolean,
  ): void {
    const rt = this.rt;
    const slot = req.slot;
    const wait = rt.user.cluster_failover_wait;
    if (
      slot !== null &&
      retryable &&
      wait > 0 &&
      req.idempotent &&
      req.retryBuf !== undefined &&
      !slot.owner.closed &&
      !rt.closed &&
      rt.waiting.length < MAX_WAITING
    ) {
      this.counters.cluster_failover_waits++;
      rt.waiting.push({ req, server, reason, deadline: Date.now() + wait });
      this.refreshSoon();
      rt.waitTimer ??= setTimeout(() => this.tick(), WAIT_TICK_MS);
      return;
    }
    // The core's own retry is for ejections (auto_eject_hosts); here it would re-send writes.
    super.failRequest(req, server, reason, false);
  }

  /** Held reads whose slot has another master now go there; expired ones fail. */
  private tick(): void {
    const rt = this.rt;
    rt.waitTimer = undefined;
    const now = Date.now();
    const held = rt.waiting;
    rt.waiting = [];
    for (const w of held) {
      const req = w.req;
      const bytes = req.retryBuf as Buffer;
      const idx = this.table.picker.pick(bytes, req.keyStart, req.keyEnd);
      const target = idx >= 0 ? this.servers[idx] : undefined;
      if (req.slot?.owner.closed !== false) super.failRequest(req, w.server, w.reason, false);
      else if (target !== undefined && target !== w.server) this.sendAgain(req, target, false, 0);
      else if (now >= w.deadline)
        super.failRequest(
          req,
          w.server,
          `${w.reason} (the cluster named no other master for its slot within cluster_failover_wait)`,
          false,
        );
      else rt.waiting.push(w);
    }
    if (rt.waiting.length > 0) {
      this.refreshSoon();
      rt.waitTimer = setTimeout(() => this.tick(), WAIT_TICK_MS);
    }
  }

  /** Follows a -MOVED/-ASK for `req`; false leaves the reply to the client. */
  private redirect(req: Request, r: Redirect): boolean {
    const hops = req instanceof Redirected ? req.hops : 0;
    if (hops >= MAX_HOPS) return false;
    const host = r.host !== "" ? r.host : this.seedHost();
    const target = this.serverAt(host, r.port);
    if (r.kind === "moved") {
      this.counters.cluster_moved++;
      const idx = this.servers.indexOf(target);
      if (idx >= 0) (this.table as ClusterTable).owner[r.slot] = idx;
      this.refreshSoon();
    } else this.counters.cluster_ask++;
    this.sendAgain(req, target, r.kind === "ask", hops + 1);
    return true;
  }

  /**
   * Sends `req`'s bytes again to `target` as a new request of the same slot and part (to the
   * master itself: a redirect names a master, and a held read's replica may be the one gone).
   */
  private sendAgain(req: Request, target: BackendServer, ask: boolean, hops: number): void {
    const slot = req.slot;
    if (slot === null) return;
    let bytes = req.retryBuf as Buffer;
    let expect = req.expect;
    let shift = 0;
    if (ask) {
      // ASKING must come right before the request on the same connection (cluster-spec.md
      // "ASK redirection"): any command in between, a RESP3 client's HELLO 3 included
      // (planner.ts wrap), clears it. So it goes into the request's own bytes, as one more
      // reply before the client's.
      const before = expectBefore(expect);
      const at =
        before === 1 && bytes.subarray(0, HELLO3.length).equals(HELLO3) ? HELLO3.length : 0;
      if (before === 0 || at > 0) {
        bytes = Buffer.concat([bytes.subarray(0, at), ASKING, bytes.subarray(at)]);
        expect = expectToken(before + 1, expectAfter(expect));
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
      super.failRequest(again, target, "has too many requests in flight", false);
  }

  /** The server for a node a redirect named: a master of the table, a replica, or a new one. */
  private serverAt(host: string, port: number): BackendServer {
    const label = labelOf(host, port);
    const known =
      this.servers.find((s) => s.label === label) ??
      this.rt.replicas.get(label) ??
      this.rt.extra.get(label);
    if (known !== undefined) return known;
    const s = new BackendServer(
      this,
      label,
      label,
      { kind: "tcp", host, port },
      this.rt.user.server_connections,
    );
    this.rt.extra.set(label, s);
    return s;
  }

  private seedHost(): string {
    const s = this.rt.user.servers[0];
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
