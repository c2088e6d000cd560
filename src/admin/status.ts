/**
 * The status model served by /api/v1/status, the SSE stream and the dashboard. Each subsystem
 * instance (a proxy pool, an embedded node, a VRRP instance, a TCP service) registers a
 * StatusProvider whose snapshot() returns plain JSON in the shapes below; the hub gathers them.
 * Snapshots are taken about once a second per open dashboard, so they may allocate, but they
 * must be cheap and must not block (no I/O: report what the subsystem already knows).
 */
import type { ClusterStatus } from "../proxy/cluster/status.js";

/** A backend as the proxy/balancer sees it. "draining": no new requests, in-flight finish. */
export type Health = "up" | "down" | "ejected" | "draining" | "disabled" | "unknown";

export interface ServerStatus {
  name: string;
  address: string;
  /** In a replica set: "master" | "replica"; plain twemproxy pools: "server". */
  role: "master" | "replica" | "server";
  health: Health;
  weight: number;
  opsPerSec: number;
  /** Request latency in ms (from the server's Histogram), null before any request. */
  latencyMs: { p50: number | null; p99: number | null };
  errors: number;
  ejections: number;
  /** Why it is not up, e.g. "3 consecutive errors", "connection refused". */
  detail?: string;
}

/** One shard: a twemproxy server (one member) or a replica set (a master and replicas). */
export interface ShardStatus {
  name: string;
  members: ServerStatus[];
}

export interface PoolStatus {
  name: string;
  protocol: "memcache" | "redis";
  listen: string;
  distribution?: string;
  hash?: string;
  clientConnections: number;
  opsPerSec: number;
  errors: number;
  shards: ShardStatus[];
  failovers: number;
  /** Redis Cluster pools: the slot map (slots, replicas and health per master). */
  cluster?: ClusterStatus;
}

export interface PeerStatus {
  name: string;
  address: string;
  state: "connected" | "syncing" | "connecting" | "down";
  /** Replication lag in ms (time since the newest applied write), null when unknown. */
  lagMs: number | null;
  /** Writes queued for this peer, not yet acknowledged. */
  pending?: number;
}

export interface NodeStatus {
  name: string;
  address: string;
  up: boolean;
  uptimeSec: number;
  memory: { usedBytes: number; limitBytes: number };
  items: number;
  /** get_hits / (get_hits + get_misses), null before any get. */
  hitRatio: number | null;
  opsPerSec: number;
  connections: number;
  evictions: number;
  peers: PeerStatus[];
}

export interface VrrpStatus {
  name: string;
  vrid: number;
  interface: string;
  state: "INIT" | "BACKUP" | "MASTER" | "FAULT" | "STOP";
  priority: number;
  effectivePriority: number;
  vips: string[];
  /** Who the master is, as far as this host knows. */
  master?: string;
  since?: number;
  /** Held in BACKUP by an operator (the "force backup" action). */
  held?: boolean;
}

export interface TcpServiceStatus {
  name: string;
  listen: string;
  algorithm: string;
  active: number;
  connectionsTotal: number;
  servers: {
    name: string;
    address: string;
    health: Health;
    weight: number;
    active: number;
  }[];
}

/**
 * The processes serving this config (`keepcache run` with `workers: N`): this one, the proxy
 * pools' worker processes (src/proxy/workers/) and the TCP balancer's (src/tcp/workers.ts).
 * Their counters are already summed into the pools' and services' figures.
 */
export interface ProcessesStatus {
  pid: number;
  proxyWorkers: number[];
  tcpWorkers: number[];
}

export interface StatusKinds {
  pool: PoolStatus;
  node: NodeStatus;
  vrrp: VrrpStatus;
  tcp: TcpServiceStatus;
}
export type StatusKind = keyof StatusKinds;

export interface StatusProvider<K extends StatusKind = StatusKind> {
  kind: K;
  name: string;
  snapshot(): StatusKinds[K];
}

/** A provider whose snapshot threw: shown as an error card instead of hiding the instance. */
export interface StatusError {
  name: string;
  error: string;
}

export interface StatusDocument {
  version: string;
  /** Milliseconds since the epoch when the snapshot was taken. */
  time: number;
  uptimeSec: number;
  pools: (PoolStatus | StatusError)[];
  nodes: (NodeStatus | StatusError)[];
  vrrp: (VrrpStatus | StatusError)[];
  tcp: (TcpServiceStatus | StatusError)[];
  /** Which actions a handler exists for, so the dashboard shows only working buttons. */
  actions: ActionCapabilities;
  /** Sequence number of the newest event (clients fetch /api/v1/events?after=N). */
  lastEventSeq: number;
  /** Present when a process source is set (keepcache run). */
  processes?: ProcessesStatus;
}

/** kind -> names that have a handler ("*" = every name of that kind). */
export type ActionCapabilities = Record<"server" | "pool" | "vrrp" | "node", string[]>;

const PLURAL = { pool: "pools", node: "nodes", vrrp: "vrrp", tcp: "tcp" } as const;

export class StatusHub {
  private readonly providers = new Map<string, StatusProvider>();
  private readonly started = Date.now();
  private processes: (() => ProcessesStatus) | undefined;

  /** Who reports the processes (pids are known without I/O: cheap like any snapshot). */
  setProcesses(source: (() => ProcessesStatus) | undefined): void {
    this.processes = source;
  }

  /** Adds a provider; kind+name must be unique. Returns the undo. */
  register<K extends StatusKind>(p: StatusProvider<K>): () => void {
    const key = `${p.kind}/${p.name}`;
    if (this.providers.has(key)) throw new Error(`status provider ${key} already registered`);
    this.providers.set(key, p as unknown as StatusProvider);
    return () => {
      if (this.providers.get(key) === (p as unknown)) this.providers.delete(key);
    };
  }

  snapshot(
    extra: { version: string; actions: ActionCapabilities; lastEventSeq: number },
    now = Date.now(),
  ): StatusDocument {
    const doc: StatusDocument = {
      version: extra.version,
      time: now,
      uptimeSec: Math.floor((now - this.started) / 1000),
      pools: [],
      nodes: [],
      vrrp: [],
      tcp: [],
      actions: extra.actions,
      lastEventSeq: extra.lastEventSeq,
    };
    if (this.processes !== undefined) doc.processes = this.processes();
    for (const p of this.providers.values()) {
      const list = doc[PLURAL[p.kind]] as unknown[];
      try {
        list.push(p.snapshot());
      } catch (err) {
        list.push({ name: p.name, error: (err as Error).message ?? String(err) });
      }
    }
    for (const k of Object.values(PLURAL)) {
      (doc[k] as { name: string }[]).sort((a, b) => a.name.localeCompare(b.name));
    }
    return doc;
  }
}
