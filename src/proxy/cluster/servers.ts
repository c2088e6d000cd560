/**
 * The servers of a cluster pool that are not entries of its table: each master's replicas (for
 * `read: replica | prefer-replica`) and nodes a redirect named before the map lists them (a new
 * master importing slots). Kept across map changes with their connections, by label. The
 * primary's control plane (control.ts) places them from its slot map, a worker process's
 * (workers/cluster-follower.ts) from the primary's table; both resolve redirects through them.
 */
import type { Endpoint, PoolConfig, ServerConfig } from "../../config/index.js";
import { formatEndpoint } from "../../config/schema/common.js";
import type { ProxyPool } from "../pool.js";
import { BackendServer } from "../server.js";
import type { PoolTarget } from "../target.js";
import { ClusterNode, type ClusterRead } from "./node.js";

const READONLY = Buffer.from("*1\r\n$8\r\nREADONLY\r\n");

export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

export const labelOf = (host: string, port: number): string =>
  formatEndpoint({ kind: "tcp", host, port });

/** A config server line for one master of the map (the pool runs the masters as servers). */
export function nodeLine(host: string, port: number): ServerConfig {
  const address: Endpoint = { kind: "tcp", host, port };
  const pname = `${formatEndpoint(address)}:1`;
  return { kind: "server", raw: pname, pname, address, weight: 1, name: undefined, key: "" };
}

/** The host of a redirect that names none: the first seed's. */
export function seedHost(config: PoolConfig): string {
  const s = config.servers[0];
  return s.kind === "server" && s.address.kind === "tcp" ? s.address.host : "127.0.0.1";
}

/** True for READONLY: a topology link sends the pool's handshake without it. */
export const isReadonly = (request: Buffer): boolean => request === READONLY;

export class ClusterServers {
  private readonly replicas = new Map<string, BackendServer>();
  private readonly extra = new Map<string, BackendServer>();

  constructor(private readonly pool: ProxyPool) {}

  /**
   * After the pool built its servers (one per master, in map order): hangs `replicasOf[i]`
   * off `pool.servers[i]`, retires replicas no longer listed and extra nodes that are masters
   * now.
   */
  place(read: ClusterRead, replicasOf: readonly (readonly NodeAddress[])[]): void {
    const pool = this.pool;
    // READONLY is harmless on a master connection (it only changes what a replica serves),
    // so every data connection gets it and replicas need no handshake of their own.
    if (read !== "master") pool.handshake = [...pool.handshake, { request: READONLY, expect: 0 }];
    const keep = new Set<string>();
    replicasOf.forEach((list, i) => {
      const node = pool.servers[i];
      if (!(node instanceof ClusterNode)) return;
      node.read = read;
      node.replicas =
        read === "master"
          ? []
          : list.map((r) => {
              const label = labelOf(r.host, r.port);
              keep.add(label);
              let s = this.replicas.get(label);
              if (s === undefined) {
                s = this.make(r.host, r.port);
                this.replicas.set(label, s);
              }
              return s;
            });
    });
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

  /** The server for a node a redirect named: a master of the table, a replica, or a new one. */
  at(host: string, port: number): PoolTarget {
    const label = labelOf(host, port);
    const known =
      this.pool.servers.find((s) => s.label === label) ??
      this.replicas.get(label) ??
      this.extra.get(label);
    if (known !== undefined) return known;
    const s = this.make(host, port);
    this.extra.set(label, s);
    return s;
  }

  close(reason: string): void {
    for (const s of [...this.replicas.values(), ...this.extra.values()]) s.close(reason);
  }

  private make(host: string, port: number): BackendServer {
    const label = labelOf(host, port);
    const ep: Endpoint = { kind: "tcp", host, port };
    return new BackendServer(this.pool, label, label, ep, this.pool.config.server_connections);
  }
}
