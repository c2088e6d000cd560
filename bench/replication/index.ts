/**
 * `npm run bench -- replication`: keepcache node replication.
 *
 * Rows:
 *   - set-heavy (10/90) memcaslap throughput on a 2-node async mesh, against the same node
 *     unreplicated (anchor), and the replicated ops/s the peer applied meanwhile;
 *   - replication lag p99 under that load (sampled from the writer's peer:<b>:lag_ms);
 *   - the same load in sync mode (--sync-replication) against async;
 *   - full-sync time for 1M items (100-byte values) into an empty joining node (target <= 10 s).
 */

import { freePorts } from "../../tools/ports.js";
import { keepcacheBin, type Proc, start } from "../../tools/procs.js";
import { loadItems } from "../lib/loader.js";
import { type LoadResult, memcaslap } from "../lib/memcaslap.js";
import type { Row } from "../lib/table.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const MEMORY_MB = 1024;

async function node(port: number, args: string[]): Promise<Proc> {
  return start(
    process.execPath,
    [keepcacheBin(), "node", "-p", String(port), "-m", String(MEMORY_MB), ...args],
    {
      port,
      env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" },
    },
  );
}

/** Two nodes pulling from each other; node ids 1 and 2. */
async function pair(extra: string[] = []): Promise<{ a: Proc; b: Proc; ports: number[] }> {
  const ports = await freePorts(4);
  const [pa, pb, ra, rb] = ports;
  const a = await node(pa, [
    "--replication-port",
    String(ra),
    "--node-id",
    "1",
    "-x",
    `127.0.0.1:${rb}`,
    ...extra,
  ]);
  const b = await node(pb, [
    "--replication-port",
    String(rb),
    "--node-id",
    "2",
    "-x",
    `127.0.0.1:${ra}`,
    ...extra,
  ]);
  await waitState(pa, rb, "online", 10_000);
  await waitState(pb, ra, "online", 10_000);
  return { a, b, ports };
}

async function stats(port: number): Promise<Map<string, string>> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" }, () => s.write("stats\r\n"));
    let text = "";
    s.on("data", (d) => {
      text += d.toString("latin1");
      if (text.endsWith("END\r\n")) {
        s.destroy();
        const m = new Map<string, string>();
        for (const line of text.split("\r\n")) {
          const p = line.split(" ");
          if (p[0] === "STAT") m.set(p[1], p.slice(2).join(" "));
        }
        resolve(m);
      }
    });
    s.on("error", reject);
  });
}

async function waitState(
  port: number,
  peerReplPort: number,
  state: string,
  timeoutMs: number,
): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const s = await stats(port).catch(() => new Map<string, string>());
    if (s.get(`peer:127.0.0.1:${peerReplPort}:state`) === state) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`peer ${peerReplPort} not ${state} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const load = (port: number) =>
  memcaslap(`127.0.0.1:${port}`, {
    getRatio: 0.1,
    valueBytes: 100,
    keyBytes: 20,
    seconds: SECONDS,
    concurrency: 32,
  });

async function measureAsync() {
  const { a, b, ports } = await pair();
  const [pa, pb, , rb] = ports;
  const before = Number((await stats(pb)).get("repl_mutations_applied"));
  const lags: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const s = await stats(pa).catch(() => undefined);
      if (s) lags.push(Number(s.get(`peer:127.0.0.1:${rb}:lag_ms`)));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const res = await load(pa);
  sampling = false;
  await sampler;
  // Let the peer finish applying, then count what it applied during the run.
  await new Promise((r) => setTimeout(r, 500));
  const applied = Number((await stats(pb)).get("repl_mutations_applied")) - before;
  await a.stop();
  await b.stop();
  lags.sort((x, y) => x - y);
  const p99 = lags.length
    ? lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))]
    : Number.NaN;
  return { res, applied: applied / SECONDS, lagP99: p99 };
}

async function measureSync(): Promise<LoadResult> {
  const { a, b, ports } = await pair(["--sync-replication"]);
  const res = await load(ports[0]);
  await a.stop();
  await b.stop();
  return res;
}

async function measureSolo(): Promise<LoadResult> {
  const [p] = await freePorts(1);
  const n = await node(p, []);
  const res = await load(p);
  await n.stop();
  return res;
}

/** A loaded node and an empty joiner: time until the joiner's full sync reports done. */
async function measureFullSync(items: number): Promise<{ ms: number; items: number }> {
  const [pa, pb, ra, rb] = await freePorts(4);
  const a = await node(pa, ["--replication-port", String(ra), "--node-id", "1"]);
  await loadItems(pa, items);
  const b = await node(pb, [
    "--replication-port",
    String(rb),
    "--node-id",
    "2",
    "-x",
    `127.0.0.1:${ra}`,
  ]);
  await waitState(pb, ra, "online", 60_000);
  const line = b
    .output()
    .split("\n")
    .find((l) => l.includes("full sync from peer done"));
  const rec = line
    ? (JSON.parse(line) as { ms: number; items: number })
    : { ms: Number.NaN, items: 0 };
  const got = Number((await stats(pb)).get("curr_items"));
  await a.stop();
  await b.stop();
  return { ms: rec.ms, items: got };
}

export async function run(): Promise<Row[]> {
  const solo = await measureSolo();
  const asy = await measureAsync();
  const sync = await measureSync();
  const full = await measureFullSync(1_000_000);
  const ops = (r: LoadResult) => `${fmt(r.tps)} ops/s p99 ${us(r.p99us)}`;
  return [
    {
      name: "set 10/90, async 2-node mesh (anchor: unreplicated)",
      anchor: ops(solo),
      keepcache: ops(asy.res),
      ratio: asy.res.tps / solo.tps,
      target: ">= 0.7",
      pass: asy.res.tps / solo.tps >= 0.7,
    },
    {
      name: "replicated ops/s applied by the peer",
      anchor: `${fmt(asy.res.tps * 0.9)} sets/s sent`,
      keepcache: `${fmt(asy.applied)} ops/s`,
      ratio: asy.applied / (asy.res.tps * 0.9),
      target: ">= 0.9",
      pass: asy.applied / (asy.res.tps * 0.9) >= 0.9,
    },
    {
      name: "replication lag p99 under that load",
      anchor: "-",
      keepcache: `${asy.lagP99} ms`,
      ratio: asy.lagP99 / 100,
      target: "<= 100 ms",
      pass: asy.lagP99 <= 100,
    },
    {
      name: "set 10/90, sync (N=1) vs async",
      anchor: ops(asy.res),
      keepcache: ops(sync),
      ratio: sync.tps / asy.res.tps,
      target: "report",
      pass: true,
    },
    {
      name: "full sync of 1M x 100 B into an empty node",
      anchor: "10 s",
      keepcache: `${(full.ms / 1000).toFixed(2)} s (${full.items} items)`,
      ratio: full.ms / 10_000,
      target: "<= 10 s",
      pass: full.ms <= 10_000 && full.items === 1_000_000,
    },
  ];
}

function fmt(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n));
}
function us(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)}ms` : `${n.toFixed(0)}µs`;
}
