/**
 * Helpers for the replication e2e tests: a mesh of real `keepcache node` processes on loopback,
 * each listing every other as a peer, plus small text-protocol helpers. Not a test file itself.
 */

import { freePorts } from "../../tools/ports.js";
import { keepcacheBin, type Proc, start } from "../../tools/procs.js";
import { RawClient } from "../helpers/line-client.js";

export interface ClusterNode {
  index: number;
  port: number;
  replPort: number;
  proc: Proc;
  extra: string[];
}

export class Cluster {
  readonly nodes: ClusterNode[] = [];
  private constructor(
    private readonly ports: number[],
    private readonly replPorts: number[],
  ) {}

  /** n nodes, node i has --node-id i+1 and peers = every other node. */
  static async start(n: number, extra: (i: number) => string[] = () => []): Promise<Cluster> {
    const all = await freePorts(2 * n);
    const c = new Cluster(all.slice(0, n), all.slice(n));
    for (let i = 0; i < n; i++) {
      c.nodes.push({
        index: i,
        port: c.ports[i],
        replPort: c.replPorts[i],
        proc: undefined as unknown as Proc,
        extra: extra(i),
      });
    }
    await Promise.all(c.nodes.map((node) => c.launch(node)));
    return c;
  }

  args(node: ClusterNode): string[] {
    const peers = this.nodes
      .filter((o) => o !== node)
      .flatMap((o) => ["-x", `127.0.0.1:${o.replPort}`]);
    return [
      keepcacheBin(),
      "node",
      "-p",
      String(node.port),
      "--replication-port",
      String(node.replPort),
      "--node-id",
      String(node.index + 1),
      ...peers,
      ...node.extra,
    ];
  }

  async launch(node: ClusterNode): Promise<void> {
    node.proc = await start(process.execPath, this.args(node), {
      port: node.port,
      env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" },
    });
  }
}

/** One short-lived connection per call keeps tests independent of each other's state. */
export async function call(port: number, cmd: string, terminator = "\r\n"): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    return await c.call(cmd, terminator);
  } finally {
    c.close();
  }
}

export async function stats(port: number): Promise<Map<string, string>> {
  const text = await call(port, "stats\r\n", "END\r\n");
  const m = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const p = line.split(" ");
    if (p[0] === "STAT") m.set(p[1], p.slice(2).join(" "));
  }
  return m;
}

/** key -> value for every key found (one multi-key get). */
export async function getMany(port: number, keys: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const c = await RawClient.connect(port);
  try {
    for (let i = 0; i < keys.length; i += 100) {
      const text = await c.call(`get ${keys.slice(i, i + 100).join(" ")}\r\n`, "END\r\n");
      const lines = text.split("\r\n");
      for (let j = 0; j < lines.length; j++) {
        const p = lines[j].split(" ");
        if (p[0] === "VALUE") out.set(p[1], lines[++j]);
      }
    }
  } finally {
    c.close();
  }
  return out;
}

/** Polls `check` until it returns true or the time is up; returns the last result. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until every node reports every peer link online. */
export async function waitOnline(c: Cluster, timeoutMs = 10_000): Promise<void> {
  const ok = await eventually(async () => {
    for (const n of c.nodes) {
      const s = await stats(n.port).catch(() => new Map<string, string>());
      for (const o of c.nodes) {
        if (o !== n && s.get(`peer:127.0.0.1:${o.replPort}:state`) !== "online") return false;
      }
    }
    return true;
  }, timeoutMs);
  if (!ok)
    throw new Error(
      `cluster not online in ${timeoutMs} ms:\n${c.nodes.map((n) => n.proc.output().slice(-2000)).join("\n---\n")}`,
    );
}
