/**
 * The failover of `keepcache up`'s one shard, until issue 5's replica sets serve it: a pool
 * with a single named server ("cache", so the name, not the address, is what is hashed) sent
 * to one member at a time. The members are watched by the shared health prober (and told at
 * once when a member process exits); when the active member goes down the pool is re-applied
 * with another live member's address, which swaps its routing table like a reload. Redis
 * members are also re-pointed: the new master gets REPLICAOF NO ONE, a returning member
 * REPLICAOF the current master (what `failover: builtin` will do in the proxy, issue 5).
 */
import net from "node:net";
import { ActionError, type ActionHandler } from "../admin/actions.js";
import type { EventRing } from "../admin/events.js";
import type { Health } from "../admin/status.js";
import type { Config, PoolConfig } from "../config/index.js";
import { parseConfig } from "../config/load.js";
import { Prober } from "../health/prober.js";
import type { Logger } from "../log.js";

export interface Member {
  name: string;
  port: number;
}

export interface ShardFailoverOptions {
  pool: string;
  listenPort: number;
  redis: boolean;
  members: Member[];
  log: Logger;
  events: EventRing;
  /** Apply a new pool config (ProxyService.reload). */
  apply(cfg: Config): Promise<void>;
}

export const SHARD = "cache";

/** The pool as YAML (twemproxy syntax), served by `member`. */
export function poolConfig(o: { pool: string; listenPort: number; redis: boolean }, port: number) {
  const yaml = [
    `${o.pool}:`,
    `  listen: 127.0.0.1:${o.listenPort}`,
    "  hash: fnv1a_64",
    "  distribution: ketama",
    `  redis: ${o.redis}`,
    "  timeout: 1000",
    "  servers:",
    `    - 127.0.0.1:${port}:1 ${SHARD}`,
  ].join("\n");
  return parseConfig(yaml, "keepcache up");
}

export class ShardFailover {
  readonly prober = new Prober();
  active: Member;
  private readonly down = new Set<string>();
  private switching = Promise.resolve();

  constructor(private readonly o: ShardFailoverOptions) {
    this.active = o.members[0];
    for (const m of o.members) {
      this.prober.add({
        id: m.name,
        target: { host: "127.0.0.1", port: m.port, name: m.name },
        check: {
          type: o.redis ? "redis" : "memcache",
          interval: 250,
          timeout: 250,
          rise: 2,
          fall: 2,
        },
      });
    }
    this.prober.subscribe((e) => {
      if (e.type !== "transition") return;
      if (e.to === "down") this.memberDown(e.target, e.reason);
      else this.memberUp(e.target);
    });
  }

  config(): Config {
    return poolConfig(this.o, this.active.port);
  }

  poolConfig(): PoolConfig {
    return this.config().pools[0];
  }

  start(): void {
    this.prober.start();
  }

  async stop(): Promise<void> {
    await this.prober.stop();
  }

  health(name: string): Health {
    return this.down.has(name) ? "down" : "up";
  }

  role(name: string): "master" | "replica" {
    return name === this.active.name ? "master" : "replica";
  }

  /** A member process exited: no need to wait for the probes. */
  memberDown(name: string, reason: string): void {
    if (this.down.has(name)) return;
    this.down.add(name);
    this.o.events.push({
      kind: "health",
      subject: `${this.o.pool}/${name}`,
      message: `down: ${reason}`,
      level: "warn",
      data: { pool: this.o.pool, server: name },
    });
    if (name === this.active.name) this.failover(`${name} is down (${reason})`);
  }

  /** A member serves again (its process restarted, or its probes pass again). */
  memberUp(name: string): void {
    if (!this.down.delete(name)) return;
    this.o.events.push({
      kind: "restore",
      subject: `${this.o.pool}/${name}`,
      message: "up again",
      data: { pool: this.o.pool, server: name },
    });
    const m = this.o.members.find((x) => x.name === name);
    if (m === undefined) return;
    if (this.down.has(this.active.name)) {
      this.failover(`${name} is back and ${this.active.name} is down`);
      return;
    }
    if (this.o.redis && m !== this.active) {
      // A returning master must not keep taking writes: make it a replica of the current one.
      this.run(() => redisCommand(m.port, `REPLICAOF 127.0.0.1 ${this.active.port}`), m);
    }
  }

  /** Switches the shard to `to` (or the next live member); resolves when the pool serves it. */
  failover(reason: string, to?: string): Promise<Member> {
    const next = this.switching.then(() => this.switchTo(reason, to));
    this.switching = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async switchTo(reason: string, to?: string): Promise<Member> {
    const from = this.active;
    const candidates = this.o.members.filter(
      (m) => m !== from && this.health(m.name) === "up" && (to === undefined || m.name === to),
    );
    const target = candidates[0];
    if (target === undefined) {
      this.o.log.error({ pool: this.o.pool, reason }, "failover impossible: no other member is up");
      throw new ActionError(409, `no other member of ${SHARD} is up`);
    }
    if (this.o.redis) await redisCommand(target.port, "REPLICAOF NO ONE");
    this.active = target;
    await this.o.apply(this.config());
    if (this.o.redis && this.health(from.name) === "up") {
      await redisCommand(from.port, `REPLICAOF 127.0.0.1 ${target.port}`).catch(() => undefined);
    }
    this.o.log.warn({ pool: this.o.pool, from: from.name, to: target.name, reason }, "failover");
    this.o.events.push({
      kind: "failover",
      subject: `${this.o.pool}/${SHARD}`,
      message: `${from.name} -> ${target.name}: ${reason}`,
      level: "warn",
      data: { pool: this.o.pool, shard: SHARD, from: from.name, to: target.name },
    });
    return target;
  }

  private run(fn: () => Promise<unknown>, m: Member): void {
    fn().catch((err) => this.o.log.warn({ err, member: m.name }, "re-pointing a member failed"));
  }

  /** The "fail over" button and POST /api/v1/pools/{pool}/failover. */
  actionHandler(): ActionHandler {
    return {
      kind: "pool",
      name: this.o.pool,
      handle: async (a) => {
        if (a.kind !== "pool") throw new ActionError(400, "not a pool action");
        if (a.shard !== undefined && a.shard !== SHARD)
          throw new ActionError(404, `no shard '${a.shard}'`);
        const from = this.active.name;
        const to = await this.failover("operator request", a.to);
        return { message: `${SHARD}: ${from} -> ${to.name}` };
      },
    };
  }
}

/** One inline Redis command; resolves with the first reply line (rejects on -ERR). */
export function redisCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port });
    let buf = "";
    const t = setTimeout(
      () => done(new Error(`${command}: no reply in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const done = (err: Error | null, line?: string) => {
      clearTimeout(t);
      s.destroy();
      if (err) reject(err);
      else resolve(line ?? "");
    };
    s.once("connect", () => s.write(`${command}\r\n`));
    s.on("data", (d) => {
      buf += d.toString("latin1");
      const i = buf.indexOf("\r\n");
      if (i < 0) return;
      const line = buf.slice(0, i);
      done(line.startsWith("-") ? new Error(`${command}: ${line.slice(1)}`) : null, line);
    });
    s.once("error", (err) => done(err));
  });
}
