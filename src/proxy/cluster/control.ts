/**
 * The control plane of a pool backed by a Redis Cluster (`redis_cluster: true`; its `servers`
 * are seed nodes), given to the ProxyPool in place of the default PoolControl (which it keeps
 * for control state, health checks and the operator's actions).
 *
 * Slot map: it is fetched from any node (topology.ts: CLUSTER SHARDS, else
 * CLUSTER SLOTS) at start, every `cluster_refresh_interval`, and soon after anything that says
 * it changed: a -MOVED, a node connection failing. Refreshes are single-flight and at least
 * MIN_REFRESH_GAP_MS apart, so a burst of redirects or failures costs one fetch, not one per
 * request. While a master's connections fail (a suspect), the gap is SUSPECT_REFRESH_GAP_MS
 * and its replicas are asked first: the replica the cluster promotes knows it at once, the
 * other nodes only from its gossip (cluster-spec.md "Replica election and promotion"). A map that differs from the current one becomes the pool's server list (one
 * server per master, whose replicas hang off it: node.ts) and a new routing table (table.ts).
 *
 * Data plane: the core routes by that table and the Redis driver splits multi-key commands by
 * slot; redirects and reads held through a failover are replies.ts (ClusterReplies, the data
 * plane's reply hook), with this object as its ClusterRouting. The cluster promotes a replica
 * itself (cluster-spec.md "Replica election and promotion"); the pool follows by refreshing.
 *
 * Worker processes (`workers: N`): this object stays in the primary; every table swap goes to
 * the workers as plain data (wire(), with the pool's other tables: workers/primary.ts), and a
 * worker's -MOVED or failed node asks the primary for a refresh (workers/cluster-follower.ts),
 * which refreshSoon coalesces like its own.
 */
import type { Endpoint, PoolConfig } from "../../config/index.js";
import type { Prober } from "../../health/prober.js";
import type { Logger } from "../../log.js";
import { PoolControl, type PoolControlListener, type TargetState } from "../control.js";
import type { PoolControlPlane, ProxyPool } from "../pool.js";
import type { RoutingTable } from "../router.js";
import type { BackendServer } from "../server.js";
import type { PoolTarget } from "../target.js";
import type { Migration } from "./migrations.js";
import { type ClusterRead, ClusterNode as NodeServer } from "./node.js";
import { ClusterReplies, type ClusterRouting } from "./replies.js";
import { ClusterServers, isReadonly, labelOf, nodeLine, seedHost } from "./servers.js";
import type { SlotMap } from "./slot-map.js";
import { type ClusterStatus, clusterStatus } from "./status.js";
import { type ClusterTable, type ClusterWire, clusterTable, ownerRanges } from "./table.js";
import { type FetchOptions, fetchMigrations, fetchSlotMap } from "./topology.js";

const MIN_REFRESH_GAP_MS = 100;
/**
 * The gap while a master is suspect (its connections failed): clients retrying their writes
 * ask for the map that names its promoted replica, and each 100 ms waited is 100 ms more of
 * failed writes after the cluster's own promotion.
 */
const SUSPECT_REFRESH_GAP_MS = 25;
/** A master stays suspect this long at most (it may have recovered without a map change). */
const SUSPECT_MAX_MS = 30_000;
/** The masters are asked for their migrations at most this often (after a map refresh). */
const MIGRATION_SCAN_GAP_MS = 1000;
/** Per node asked for the map: a dead node refuses at once, a silent one costs this much. */
const NODE_TIMEOUT_MS = 1000;

export class ClusterControl implements PoolControlPlane, ClusterRouting {
  /** Control state, health checks and the operator's actions, as for any pool. */
  private readonly base: PoolControl;
  /** The operator's config (the pool runs it with the map's masters as servers: adopt). */
  private user!: PoolConfig;
  private map: SlotMap | undefined = undefined;
  private version = 0;
  /** The table last built (a -MOVED points one slot of it elsewhere, in place). */
  current: ClusterTable | undefined = undefined;
  /** Replicas and nodes only a redirect named. */
  private readonly nodes: ClusterServers;
  readonly replies: ClusterReplies;
  private refreshing: Promise<void> | undefined = undefined;
  private again = false;
  private soon: NodeJS.Timeout | undefined = undefined;
  private lastRefresh = 0;
  private refreshedAt = 0;
  private lastGood = "";
  /** Masters whose connections failed: label → since (ms). */
  private readonly suspects = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined = undefined;
  private interval = 0;
  private closed = false;
  private migrations: Migration[] = [];
  private migrationsAt = 0;
  private scanning = false;

  constructor(
    private readonly pool: ProxyPool,
    prober: Prober | undefined,
    private readonly log: Logger,
  ) {
    this.base = new PoolControl(pool, prober, log);
    this.nodes = new ClusterServers(pool);
    this.replies = new ClusterReplies(pool, this);
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
    const read: ClusterRead = this.user.read ?? "master";
    this.nodes.place(read, this.liveReplicas());
  }

  build(): RoutingTable<PoolTarget> {
    this.current = clusterTable(this.map, this.pool.servers, ++this.version);
    return this.current;
  }

  /** The table as plain data for worker processes (workers/primary.ts). */
  wire(): ClusterWire {
    const masters = this.map?.shards.map((s) => ({ host: s.master.host, port: s.master.port }));
    return {
      masters: masters ?? [],
      replicas: this.liveReplicas(),
      owner: this.current === undefined ? [] : ownerRanges(this.current.owner),
    };
  }

  /** The first slot map is fetched before the listener opens (bounded by the seeds' timeouts). */
  ready(): Promise<void> {
    return this.refresh();
  }

  serverFailed(s: BackendServer, reason: string): void {
    this.base.serverFailed(s, reason);
    if (this.pool.servers.includes(s) && !this.suspects.has(s.label))
      this.suspects.set(s.label, Date.now());
    this.refreshSoon();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.replies.close();
    this.nodes.close("pool stopped");
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

  serverAt(host: string, port: number): PoolTarget {
    return this.nodes.at(host, port);
  }

  seedHost(): string {
    return seedHost(this.user);
  }

  /** Each master's replicas that the map does not report failed, in map order. */
  private liveReplicas(): { host: string; port: number }[][] {
    return (this.map?.shards ?? []).map((s) =>
      s.replicas
        .filter((r) => !r.health.startsWith("fail"))
        .map((r) => ({ host: r.host, port: r.port })),
    );
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
    const min = this.suspects.size > 0 ? SUSPECT_REFRESH_GAP_MS : MIN_REFRESH_GAP_MS;
    if (gap < min) {
      this.soon ??= setTimeout(() => {
        this.soon = undefined;
        this.refreshSoon();
      }, min - gap);
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
          this.clearSuspects(map);
          this.scanMigrations(map);
          if (this.closed || (this.map !== undefined && sameMap(this.map, map))) return;
          const first = this.map === undefined;
          this.map = map;
          // The pool runs the map's masters (adopt), each with its replicas (configured).
          pool.apply(this.user);
          this.replies.swapped();
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
    const seen = new Set<string>();
    const order: { host: string; port: number }[] = [];
    const add = (host: string, port: number) => {
      const l = labelOf(host, port);
      if (seen.has(l)) return;
      seen.add(l);
      order.push({ host, port });
    };
    const shards = this.map?.shards ?? [];
    const suspect = (n: { host: string; port: number }) =>
      this.suspects.has(labelOf(n.host, n.port));
    // A suspect master's replicas first (one of them is promoted), the suspect itself last.
    for (const s of shards) if (suspect(s.master)) for (const r of s.replicas) add(r.host, r.port);
    const last = shards
      .flatMap((s) => [s.master, ...s.replicas])
      .find((n) => labelOf(n.host, n.port) === this.lastGood && !suspect(n));
    if (last) add(last.host, last.port);
    for (const s of shards) if (!suspect(s.master)) add(s.master.host, s.master.port);
    for (const s of this.map?.shards ?? []) for (const r of s.replicas) add(r.host, r.port);
    for (const s of this.user.servers)
      if (s.kind === "server" && s.address.kind === "tcp") add(s.address.host, s.address.port);
    for (const s of shards) add(s.master.host, s.master.port);
    const errors: string[] = [];
    const opts = this.linkOptions();
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

  /** Suspects that the map no longer names as a master, or suspect for too long, are not. */
  private clearSuspects(map: SlotMap): void {
    const now = Date.now();
    for (const [label, since] of this.suspects)
      if (
        now - since > SUSPECT_MAX_MS ||
        !map.shards.some((s) => labelOf(s.master.host, s.master.port) === label)
      )
        this.suspects.delete(label);
  }

  /** The control-plane link's options: the pool's handshake (without READONLY), TLS, bound. */
  private linkOptions(): FetchOptions {
    const pool = this.pool;
    return {
      handshake: pool.handshake.filter((h) => !isReadonly(h.request)),
      tls: pool.serverTls,
      timeoutMs: NODE_TIMEOUT_MS,
      newFramer: () => pool.driver.newReplyFramer(),
    };
  }

  /**
   * Asks every master of `map` which slots it is moving (only a node's own CLUSTER NODES line
   * says: migrations.ts), at most every MIGRATION_SCAN_GAP_MS, one scan at a time, off the
   * refresh's path. For the dashboard only: routing follows -ASK/-MOVED, not this.
   */
  private scanMigrations(map: SlotMap): void {
    if (this.scanning || Date.now() - this.migrationsAt < MIGRATION_SCAN_GAP_MS) return;
    this.scanning = true;
    const opts = this.linkOptions();
    const asks = map.shards.map((s) =>
      fetchMigrations(s.master.host, s.master.port, opts).catch(() => [] as Migration[]),
    );
    void Promise.all(asks).then((lists) => {
      this.scanning = false;
      this.migrationsAt = Date.now();
      // A slot moving shows on both ends (migrating on one, importing on the other): once.
      const seen = new Set<string>();
      this.migrations = lists.flat().filter((m) => {
        const k = `${m.slot} ${m.from} ${m.to}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    });
  }

  /** The map as the pool follows it: nodes, slots per master, migrations, refreshes. */
  clusterStatus(): ClusterStatus {
    return clusterStatus({
      map: this.map,
      counters: this.pool.counters,
      refreshedAt: this.refreshedAt,
      migrations: this.migrations,
      migrationsAt: this.migrationsAt,
      checkDown: (label) => {
        const server = this.pool.servers.find((x) => x.label === label);
        return server !== undefined && this.base.state(server).healthDown;
      },
    });
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
