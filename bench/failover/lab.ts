/**
 * A Redis replica-set lab for the failover tests and the failover bench: a master and
 * replicas (real redis-server), optionally real redis-sentinel processes, and the keepcache
 * proxy in this process in front of them as one replica-set shard; plus a write load that
 * records every acknowledgement, so a run can measure kill → first successful write, the
 * errors clients saw, and the acknowledged writes missing afterwards.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.js";
import { poolActionHandlers } from "../../src/failover/admin.js";
import { Leadership } from "../../src/failover/leader.js";
import { setControllers } from "../../src/failover/set-control.js";
import { logger } from "../../src/log.js";
import { ProxyService } from "../../src/proxy/proxy.js";
import { freePorts } from "../../tools/ports.js";
import { type Proc, start, startRedis } from "../../tools/procs.js";

export interface LabOptions {
  replicas: number;
  mode: "builtin" | "sentinel";
  /** Sentinel down-after-milliseconds (default 1000); the proxy's own down_after stays default. */
  sentinelDownAfter?: number;
  read?: string;
  weights?: number[];
  /** Extra YAML lines for the replica set. */
  extra?: string;
}

export class RedisLab {
  readonly procs: (Proc | undefined)[] = [];
  readonly sentinels: Proc[] = [];
  proxy!: ProxyService;
  proxyPort = 0;
  masterName = "mymaster";

  private constructor(
    readonly ports: number[],
    readonly sentinelPorts: number[],
  ) {}

  static async start(o: LabOptions): Promise<RedisLab> {
    const n = o.replicas + 1;
    const ns = o.mode === "sentinel" ? 3 : 0;
    const all = await freePorts(n + ns + 1);
    const lab = new RedisLab(all.slice(0, n), all.slice(n, n + ns));
    const listen = all[n + ns];
    // Redis' default replication settings, as deployed. (With repl-diskless-sync-delay 0 two
    // replicas starting together could report their link up yet never receive the stream:
    // a failover then loses every write, which measures the lab, not the failover.)
    lab.procs.push(await startRedis(lab.ports[0]));
    for (let i = 1; i < n; i++)
      lab.procs.push(
        await startRedis(lab.ports[i], ["--replicaof", "127.0.0.1", String(lab.ports[0])]),
      );
    await lab.waitReplicasOnline(15_000);
    await lab.waitReplicated(5_000);
    if (ns > 0) {
      const dir = mkdtempSync(join(tmpdir(), "kc-sentinel-"));
      for (const p of lab.sentinelPorts) {
        const file = join(dir, `s${p}.conf`);
        writeFileSync(
          file,
          [
            `port ${p}`,
            "bind 127.0.0.1",
            `sentinel monitor ${lab.masterName} 127.0.0.1 ${lab.ports[0]} 2`,
            `sentinel down-after-milliseconds ${lab.masterName} ${o.sentinelDownAfter ?? 1000}`,
            `sentinel failover-timeout ${lab.masterName} 10000`,
            `sentinel parallel-syncs ${lab.masterName} 1`,
            "",
          ].join("\n"),
        );
        lab.sentinels.push(await start("redis-sentinel", [file], { port: p }));
      }
    }
    const w = o.weights ?? [];
    const yaml = [
      "cache:",
      `  listen: 127.0.0.1:${listen}`,
      "  redis: true",
      "  timeout: 1000",
      "  servers:",
      "    - name: shard1",
      `      failover: ${o.mode}`,
      ...(o.read ? [`      read: ${o.read}`] : []),
      ...(o.mode === "sentinel"
        ? [
            `      master_name: ${lab.masterName}`,
            `      sentinels: [${lab.sentinelPorts.map((p) => `"127.0.0.1:${p}"`).join(", ")}]`,
          ]
        : []),
      ...(o.extra ? o.extra.split("\n").map((l) => `      ${l}`) : []),
      "      members:",
      ...lab.ports.map(
        (p, i) =>
          `        - { address: "127.0.0.1:${p}", role: ${i === 0 ? "master" : "replica"}, weight: ${w[i] ?? 1} }`,
      ),
    ].join("\n");
    const cfg = parseConfig(yaml, "lab.yml");
    lab.proxy = new ProxyService(
      logger({ level: process.env.KC_LAB_LOG ?? "silent" }).child({ component: "proxy" }),
      setControllers(new Leadership()),
    );
    await lab.proxy.start(cfg.pools);
    lab.proxyPort = (lab.proxy.addresses.get("cache") as net.AddressInfo).port;
    return lab;
  }

  /** Sends one command to a member directly (host 127.0.0.1). */
  async direct(port: number, ...args: string[]): Promise<string> {
    const c = new RespConn(port);
    try {
      return await c.command(args);
    } finally {
      c.close();
    }
  }

  async waitReplicasOnline(timeoutMs: number, masterPort = this.ports[0]): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const want = this.ports.filter(
      (p, i) => p !== masterPort && this.procs[i] !== undefined,
    ).length;
    while (Date.now() < deadline) {
      const info = await this.direct(masterPort, "INFO", "replication").catch(() => "");
      const online = (info.match(/state=online/g) ?? []).length;
      if (online >= want) return;
      await sleep(50);
    }
    throw new Error(`replicas of ${masterPort} not online within ${timeoutMs} ms`);
  }

  /** Writes a probe key on the master and waits until every replica has it. */
  async waitReplicated(timeoutMs: number, masterPort = this.ports[0]): Promise<void> {
    const key = `lab:probe:${Date.now()}`;
    await this.direct(masterPort, "SET", key, "1");
    const deadline = Date.now() + timeoutMs;
    const replicas = this.ports.filter((p, i) => p !== masterPort && this.procs[i] !== undefined);
    for (const p of replicas) {
      while ((await this.direct(p, "EXISTS", key).catch(() => "")) !== ":1\r\n") {
        if (Date.now() > deadline) throw new Error(`replica ${p} did not replicate ${key}`);
        await sleep(20);
      }
    }
  }

  /** kill -9 member i; returns the time of the kill. */
  kill(i: number): number {
    const p = this.procs[i];
    if (p === undefined) throw new Error(`member ${i} is not running`);
    p.child.kill("SIGKILL");
    this.procs[i] = undefined;
    return Date.now();
  }

  async restart(i: number): Promise<void> {
    this.procs[i] = await startRedis(this.ports[i]);
  }

  /** A manual failover to member `i` through the admin plane's pool action; its message. */
  async failoverTo(i: number): Promise<string> {
    const [handler] = poolActionHandlers(this.proxy);
    const res = await handler.handle({
      kind: "pool",
      pool: "cache",
      op: "failover",
      to: `127.0.0.1:${this.ports[i]}`,
    });
    return res.message;
  }

  /** The member that says role:master (via ROLE), -1 when none answers so. */
  async masterIndex(): Promise<number> {
    for (let i = 0; i < this.ports.length; i++) {
      if (this.procs[i] === undefined) continue;
      const r = await this.direct(this.ports[i], "ROLE").catch(() => "");
      if (r.startsWith("*3\r\n$6\r\nmaster")) return i;
    }
    return -1;
  }

  async stop(): Promise<void> {
    await this.proxy?.stop();
    await Promise.all([...this.sentinels, ...this.procs].map((p) => p?.stop("SIGKILL")));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A minimal RESP connection: one command at a time, the reply returned raw. */
export class RespConn {
  private readonly sock: net.Socket;
  private buf = "";
  private waiter: ((s: string) => void) | undefined;
  private failed: ((e: Error) => void) | undefined;
  closed = false;

  constructor(port: number) {
    this.sock = net.connect({ host: "127.0.0.1", port });
    this.sock.setNoDelay(true);
    this.sock.on("data", (d: Buffer) => {
      this.buf += d.toString("latin1");
      const n = replyLength(this.buf);
      if (n > 0 && this.waiter) {
        const out = this.buf.slice(0, n);
        this.buf = this.buf.slice(n);
        const w = this.waiter;
        this.waiter = undefined;
        this.failed = undefined;
        w(out);
      }
    });
    const fail = (e: Error) => {
      this.closed = true;
      this.failed?.(e);
      this.waiter = undefined;
      this.failed = undefined;
    };
    this.sock.on("error", fail);
    this.sock.on("close", () => fail(new Error("connection closed")));
  }

  command(args: string[], timeoutMs = 5000): Promise<string> {
    if (this.closed) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`timed out: ${args[0]}`));
      }, timeoutMs);
      this.waiter = (s) => {
        clearTimeout(t);
        resolve(s);
      };
      this.failed = (e) => {
        clearTimeout(t);
        reject(e);
      };
      this.sock.write(
        `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`,
      );
    });
  }

  close(): void {
    this.closed = true;
    this.sock.destroy();
  }
}

/** Length of the first complete RESP2 reply in s, 0 when incomplete. */
export function replyLength(s: string, at = 0): number {
  const nl = s.indexOf("\r\n", at);
  if (nl < 0) return 0;
  const t = s[at];
  if (t === "+" || t === "-" || t === ":") return nl + 2 - at;
  const n = Number(s.slice(at + 1, nl));
  if (t === "$") {
    if (n < 0) return nl + 2 - at;
    return s.length >= nl + 2 + n + 2 ? nl + 2 + n + 2 - at : 0;
  }
  if (t === "*") {
    let p = nl + 2;
    for (let i = 0; i < n; i++) {
      const k = replyLength(s, p);
      if (k === 0) return 0;
      p += k;
    }
    return p - at;
  }
  return 0;
}

export interface WriteLog {
  /** key → ms when the proxy acknowledged it (+OK). */
  acked: Map<string, number>;
  /** key → ms when the write was sent. */
  sent: Map<string, number>;
  errors: { at: number; reply: string }[];
  stop(): Promise<void>;
}

/** `clients` connections each writing SET w:<c>:<n> <n> back to back through the proxy. */
export function writeLoad(port: number, clients: number, prefix = "w"): WriteLog {
  const log: WriteLog = { acked: new Map(), sent: new Map(), errors: [], stop: async () => {} };
  let running = true;
  const loops = Array.from({ length: clients }, async (_, c) => {
    let conn = new RespConn(port);
    for (let n = 0; running; n++) {
      const key = `${prefix}:${c}:${n}`;
      log.sent.set(key, Date.now());
      try {
        const r = await conn.command(["SET", key, String(n)], 10_000);
        if (r.startsWith("+OK")) log.acked.set(key, Date.now());
        else log.errors.push({ at: Date.now(), reply: r.trim() });
      } catch (err) {
        log.errors.push({ at: Date.now(), reply: (err as Error).message });
        conn.close();
        conn = new RespConn(port);
        await sleep(10);
      }
    }
    conn.close();
  });
  log.stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  return log;
}

/** Acknowledged keys missing on the member at `port` (the master after the failover). */
export async function lostWrites(port: number, keys: string[]): Promise<number> {
  const c = new RespConn(port);
  let lost = 0;
  try {
    for (let i = 0; i < keys.length; i += 500) {
      const part = keys.slice(i, i + 500);
      const r = await c.command(["EXISTS", ...part]);
      lost += part.length - Number(r.slice(1).trim());
    }
  } finally {
    c.close();
  }
  return lost;
}

/** Ack time of the first write SENT after `t` (a write in flight at a kill may still be acked by the dying master), 0 if none yet. */
export function firstAckAfter(log: WriteLog, t: number): number {
  let first = 0;
  for (const [k, at] of log.acked) {
    const sent = log.sent.get(k) ?? 0;
    if (sent > t && (first === 0 || at < first)) first = at;
  }
  return first;
}
