/**
 * What `keepcache up`'s dashboard shows of each member process: a keepcache node reports
 * itself on its own admin listener (/api/v1/status, the same NodeStatus), a redis-server is
 * read with INFO. Polled twice a second; a member whose process is not running shows down at
 * once, with its last known figures.
 */
import net from "node:net";
import type { NodeStatus, PeerStatus } from "../admin/status.js";

export interface MemberProbe {
  /** Latest figures, or undefined before the first answer. */
  read(): Promise<Partial<NodeStatus> | undefined>;
}

/**
 * Headers for a member's admin listener: the nodes inherit KEEPCACHE_ADMIN_TOKEN, and with a
 * token every read needs it (admin/auth.ts).
 */
export function memberAdminHeaders(env = process.env): Record<string, string> {
  const t = env.KEEPCACHE_ADMIN_TOKEN;
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** A keepcache node child started with --admin 127.0.0.1:adminPort. */
export function keepcacheProbe(adminPort: number, peerNames: Map<string, string>): MemberProbe {
  return {
    async read() {
      const r = await fetch(`http://127.0.0.1:${adminPort}/api/v1/status`, {
        headers: memberAdminHeaders(),
        signal: AbortSignal.timeout(400),
      });
      const doc = (await r.json()) as { nodes: NodeStatus[] };
      const n = doc.nodes[0];
      if (n === undefined) return undefined;
      // Peers are named by their replication address; show the member names instead.
      const peers = n.peers.map(
        (p): PeerStatus => ({ ...p, name: peerNames.get(p.address) ?? p.name }),
      );
      return { ...n, peers };
    },
  };
}

/** A redis-server child: INFO, folded into the node card's figures. */
export function redisProbe(port: number, names: Map<string, string>): MemberProbe {
  const rate = { total: -1, at: 0, value: 0 };
  return {
    async read() {
      const info = parseInfo(await redisInfo(port));
      const keys = /keys=(\d+)/.exec(info.db0 ?? "");
      const hits = Number(info.keyspace_hits ?? 0);
      const misses = Number(info.keyspace_misses ?? 0);
      const total = Number(info.total_commands_processed ?? 0);
      const now = Date.now();
      if (rate.total >= 0 && now - rate.at >= 400)
        rate.value = ((total - rate.total) * 1000) / (now - rate.at);
      if (rate.total < 0 || now - rate.at >= 400) {
        rate.total = total;
        rate.at = now;
      }
      const peers: PeerStatus[] = [];
      if (info.role === "slave") {
        const addr = `${info.master_host}:${info.master_port}`;
        peers.push({
          name: `${names.get(addr) ?? addr} (master)`,
          address: addr,
          state:
            info.master_link_status === "up"
              ? "connected"
              : info.master_sync_in_progress === "1"
                ? "syncing"
                : "down",
          lagMs:
            info.master_last_io_seconds_ago === undefined
              ? null
              : Number(info.master_last_io_seconds_ago) * 1000,
        });
      }
      for (const [k, v] of Object.entries(info)) {
        const m = /^slave\d+$/.test(k)
          ? /ip=([^,]+),port=(\d+),state=(\w+),offset=(\d+),lag=(\d+)/.exec(v)
          : null;
        if (m === null) continue;
        const addr = `${m[1]}:${m[2]}`;
        peers.push({
          name: `${names.get(addr) ?? addr} (replica)`,
          address: addr,
          state: m[3] === "online" ? "connected" : "syncing",
          lagMs: Number(m[5]) * 1000,
          pending: Math.max(0, Number(info.master_repl_offset ?? 0) - Number(m[4])),
        });
      }
      return {
        uptimeSec: Number(info.uptime_in_seconds ?? 0),
        memory: {
          usedBytes: Number(info.used_memory ?? 0),
          limitBytes: Number(info.maxmemory ?? 0),
        },
        items: keys ? Number(keys[1]) : 0,
        hitRatio: hits + misses === 0 ? null : hits / (hits + misses),
        opsPerSec: Math.round(rate.value * 10) / 10,
        connections: Number(info.connected_clients ?? 0),
        evictions: Number(info.evicted_keys ?? 0),
        peers,
      };
    },
  };
}

export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** INFO's bulk reply body. */
function redisInfo(port: number, timeoutMs = 400): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port });
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => finish(new Error("INFO timed out")), timeoutMs);
    const finish = (err: Error | null, text = "") => {
      clearTimeout(t);
      s.destroy();
      if (err) reject(err);
      else resolve(text);
    };
    s.once("connect", () => s.write("INFO\r\n"));
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf("\r\n");
      if (nl < 0) return;
      const head = buf.toString("latin1", 0, nl);
      if (!head.startsWith("$")) return finish(new Error(`INFO: ${head}`));
      const len = Number(head.slice(1));
      if (buf.length >= nl + 2 + len) finish(null, buf.toString("utf8", nl + 2, nl + 2 + len));
    });
    s.once("error", (err) => finish(err));
  });
}

/** Polls a member; `status()` is what the dashboard's node card shows. */
export class MemberView {
  private last: Partial<NodeStatus> = {};
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    readonly name: string,
    readonly address: string,
    private readonly probe: MemberProbe,
    private readonly alive: () => boolean,
    private readonly limitBytes: number,
  ) {}

  start(ms = 500): void {
    this.timer = setInterval(() => this.poll(), ms);
    this.timer.unref();
    this.poll();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private poll(): void {
    if (this.busy || !this.alive()) return;
    this.busy = true;
    this.probe
      .read()
      .then((s) => {
        if (s !== undefined) this.last = s;
      })
      .catch(() => undefined)
      .finally(() => {
        this.busy = false;
      });
  }

  status(): NodeStatus {
    const up = this.alive();
    const l = this.last;
    return {
      name: this.name,
      address: this.address,
      up,
      uptimeSec: up ? (l.uptimeSec ?? 0) : 0,
      memory: {
        usedBytes: l.memory?.usedBytes ?? 0,
        limitBytes: l.memory?.limitBytes || this.limitBytes,
      },
      items: l.items ?? 0,
      hitRatio: l.hitRatio ?? null,
      opsPerSec: up ? (l.opsPerSec ?? 0) : 0,
      connections: up ? (l.connections ?? 0) : 0,
      evictions: l.evictions ?? 0,
      peers: up ? (l.peers ?? []) : [],
    };
  }
}
