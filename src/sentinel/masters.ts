/**
 * The masters the Sentinel endpoint reports: every Redis replica set of every pool, by its
 * `master_name` (else its set name; the first set wins a name used twice). Lookups read the
 * live pools on every call, so a reload that adds or drops a set is seen at once, and the
 * sets' transitions (proxy/replicaset/events.ts) are turned into Sentinel's pub/sub events
 * (sentinel.md "Pub/Sub messages"):
 *   +switch-master <name> <oldip> <oldport> <newip> <newport>
 *   +sdown / -sdown  <instance-type> <name> <ip> <port> @ <master-name> <master-ip> <master-port>
 *   +slave-reconf-sent <instance>   (a member told to follow the master)
 */
import { RedisSetController } from "../failover/controller.js";
import type { ProxyService } from "../proxy/proxy.js";
import type { SetEvent } from "../proxy/replicaset/events.js";
import type { ReplicaSet } from "../proxy/replicaset/set.js";

export interface Master {
  name: string;
  pool: string;
  set: ReplicaSet;
}

export interface Addr {
  ip: string;
  port: number;
}

export type Publish = (channel: string, message: string) => void;

export function masterNameOf(set: ReplicaSet): string {
  return set.cfg.master_name ?? set.cfg.name;
}

export function memberAddr(set: ReplicaSet, i: number): Addr {
  const e = set.members[i]?.endpoint;
  return e?.kind === "tcp" ? { ip: e.host, port: e.port } : { ip: "", port: 0 };
}

/** The member Sentinel would name master: the set's master even while it is down (until a switch). */
export function masterIndex(set: ReplicaSet): number {
  if (set.controller instanceof RedisSetController && set.controller.master >= 0)
    return set.controller.master;
  if (set.view.writeTarget >= 0) return set.view.writeTarget;
  return Math.max(
    0,
    set.view.members.findIndex((m) => m.role === "master"),
  );
}

export class Masters {
  private readonly subscribed = new Map<ReplicaSet, () => void>();

  constructor(
    private readonly proxy: Pick<ProxyService, "pools">,
    private readonly publish: Publish,
  ) {}

  list(): Master[] {
    const out: Master[] = [];
    const seen = new Set<string>();
    for (const pool of this.proxy.pools()) {
      if (!pool.config.redis) continue;
      for (const s of pool.servers) {
        if (s.kind !== "set") continue;
        const name = masterNameOf(s);
        if (seen.has(name)) continue;
        seen.add(name);
        out.push({ name, pool: pool.name, set: s });
      }
    }
    return out;
  }

  get(name: string): Master | undefined {
    return this.list().find((m) => m.name === name);
  }

  /** Subscribes to sets that appeared, drops those that left (called on a timer). */
  sync(): void {
    const live = new Set<ReplicaSet>();
    for (const m of this.list()) {
      live.add(m.set);
      if (!this.subscribed.has(m.set))
        this.subscribed.set(
          m.set,
          m.set.events.subscribe((e) => this.onEvent(m.set, e)),
        );
    }
    for (const [s, undo] of this.subscribed)
      if (!live.has(s)) {
        undo();
        this.subscribed.delete(s);
      }
  }

  close(): void {
    for (const undo of this.subscribed.values()) undo();
    this.subscribed.clear();
  }

  private onEvent(set: ReplicaSet, e: SetEvent): void {
    const name = masterNameOf(set);
    const at = (a: Addr) => `${a.ip} ${a.port}`;
    const m = memberAddr(set, masterIndex(set));
    const instance = (i: number) => {
      const a = memberAddr(set, i);
      const kind = i === masterIndex(set) ? "master" : "slave";
      const id = kind === "master" ? name : `${a.ip}:${a.port}`;
      return `${kind} ${id} ${at(a)} @ ${name} ${at(m)}`;
    };
    switch (e.type) {
      case "switch": {
        const from = e.from >= 0 ? memberAddr(set, e.from) : memberAddr(set, e.to);
        this.publish("+switch-master", `${name} ${at(from)} ${at(memberAddr(set, e.to))}`);
        break;
      }
      case "member":
        if (e.to === "down" && e.from !== "down") this.publish("+sdown", instance(e.member));
        else if (e.from === "down" && e.to !== "down") this.publish("-sdown", instance(e.member));
        break;
      case "repoint":
        this.publish("+slave-reconf-sent", instance(e.member));
        break;
    }
  }
}
