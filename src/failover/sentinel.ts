/**
 * Following real Redis Sentinels (`failover: sentinel`), as sentinel-clients.md asks of a
 * client: ask `SENTINEL get-master-addr-by-name <master_name>` at start and every second,
 * SUBSCRIBE to `+switch-master` on every sentinel (the leader publishes it only once the
 * replicas are reconfigured, and any one sentinel may be down), and verify the address with
 * ROLE before switching. `+switch-master` payload: `<name> <oldip> <oldport> <newip> <newport>`.
 */
import type { ReplicaSetConfig } from "../config/index.js";
import type { Logger } from "../log.js";
import { parseRole, type RoleReply } from "./info.js";
import { RedisLink } from "./redis-link.js";

/**
 * What following Sentinel needs of the set's controller (controller.ts RedisSetController):
 * declared here so the follower depends on this contract, not on the controller.
 */
export interface SentinelHost {
  readonly set: { readonly name: string };
  readonly log: Logger;
  /** One link per member, by member index. */
  readonly links: readonly RedisLink[];
  /** Each member's last ROLE reply. */
  readonly roles: (RoleReply | undefined)[];
  /** When each member last answered ROLE (ms). */
  readonly lastOk: number[];
  /** The member this proxy believes is master. */
  readonly master: number;
  /** The member at host:port, -1 when none. */
  indexOf(host: string, port: number): number;
  /** Makes member `to` the write target. */
  switchTo(to: number, role: "leader" | "observer", reason: string): void;
}

const POLL_MS = 1000;

export function parseSwitchMaster(
  message: string,
):
  | { name: string; from: { host: string; port: number }; to: { host: string; port: number } }
  | undefined {
  const f = message.trim().split(" ");
  if (f.length !== 5) return undefined;
  return {
    name: f[0],
    from: { host: f[1], port: Number(f[2]) },
    to: { host: f[3], port: Number(f[4]) },
  };
}

export class SentinelFollower {
  private readonly links: RedisLink[];
  private readonly subs: RedisLink[];
  private timer: NodeJS.Timeout | undefined;
  private readonly name: string;
  /** When the last +switch-master arrived and when the proxy switched after it (tests, bench). */
  lastSwitchMessageAt = 0;

  constructor(
    private readonly c: SentinelHost,
    cfg: ReplicaSetConfig,
  ) {
    this.name = cfg.master_name ?? cfg.name;
    this.links = cfg.sentinels.map((s) => new RedisLink(s.host, s.port));
    this.subs = cfg.sentinels.map((s) => new RedisLink(s.host, s.port, { timeoutMs: 1000 }));
  }

  start(): void {
    for (const s of this.subs) {
      // The link subscribes again after every reconnect.
      s.subscribe("+switch-master", (channel, message) => {
        if (channel !== "+switch-master") return;
        const m = parseSwitchMaster(message);
        if (m === undefined || m.name !== this.name) return;
        this.lastSwitchMessageAt = Date.now();
        void this.follow(m.to.host, m.to.port, `+switch-master from ${s.label}`);
      });
    }
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
    void this.poll();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const l of [...this.links, ...this.subs]) l.close();
  }

  private async poll(): Promise<void> {
    const answers = await Promise.allSettled(
      this.links.map((l) => l.call("SENTINEL", "get-master-addr-by-name", this.name)),
    );
    // The address most sentinels give (a lagging sentinel may still name the old master).
    const count = new Map<string, number>();
    for (const a of answers) {
      if (a.status !== "fulfilled" || !Array.isArray(a.value) || a.value.length < 2) continue;
      const k = `${a.value[0]}:${a.value[1]}`;
      count.set(k, (count.get(k) ?? 0) + 1);
    }
    let best: string | undefined;
    for (const [k, n] of count) if (best === undefined || n > (count.get(best) ?? 0)) best = k;
    if (best === undefined) return;
    const i = best.lastIndexOf(":");
    await this.follow(best.slice(0, i), Number(best.slice(i + 1)), "sentinel poll");
  }

  /** Switches to host:port once ROLE there says master. */
  async follow(host: string, port: number, why: string): Promise<void> {
    const c = this.c;
    const idx = c.indexOf(host, port);
    if (idx < 0) {
      c.log.error(
        { set: c.set.name, host, port, why },
        "sentinel names a master that is not a member",
      );
      return;
    }
    if (idx === c.master) return;
    const role = parseRole(await c.links[idx].call("ROLE").catch(() => undefined));
    if (role?.role !== "master") return;
    c.roles[idx] = role;
    c.lastOk[idx] = Date.now();
    c.switchTo(idx, "observer", why);
  }

  /** SENTINEL FAILOVER through the first sentinel that accepts it (admin manual failover). */
  async failover(): Promise<string> {
    let last: unknown;
    for (const l of this.links) {
      try {
        await l.call("SENTINEL", "FAILOVER", this.name);
        return `SENTINEL FAILOVER ${this.name} accepted by ${l.label}`;
      } catch (err) {
        last = err;
      }
    }
    throw new Error(`no sentinel accepted SENTINEL FAILOVER ${this.name}: ${String(last)}`);
  }
}
