/**
 * `npm run bench -- cluster`: a Redis Cluster pool (`redis_cluster: true`, `keepcache run`) in
 * front of a real cluster of 3 masters + 3 replicas (tools/redis-cluster.ts), against the
 * anchor: ioredis's own Cluster client connecting to the nodes directly. The same load
 * process (load.ts) drives both: 50 clients, 16 commands in flight each, SET/GET on random
 * keys, for BENCH_CLUSTER_MS per round; the median of BENCH_ROUNDS interleaved rounds
 * (proxy/rounds.ts). Target: the pool's throughput >= 0.7x of direct cluster-aware access.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "../../tools/ports.js";
import { keepcacheBin, start } from "../../tools/procs.js";
import { RedisCluster } from "../../tools/redis-cluster.js";
import type { Row } from "../lib/table.js";
import { interleave, median } from "../proxy/rounds.js";

const run = promisify(execFile);
const CLIENTS = 50;
const DEPTH = 16;
const MS = Number(process.env.BENCH_CLUSTER_MS ?? 3000);
const LOADER = fileURLToPath(new URL("./load.js", import.meta.url));

async function load(mode: "cluster" | "proxy", port: number): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    [LOADER, mode, String(port), String(CLIENTS), String(DEPTH), String(MS)],
    { timeout: MS + 60_000 },
  );
  const r = JSON.parse(stdout) as { ops: number; errors: number; ms: number };
  if (r.errors > 0) throw new Error(`${mode}: ${r.errors} commands failed`);
  return (r.ops / r.ms) * 1000;
}

export async function run_(): Promise<Row[]> {
  const cluster = await RedisCluster.start();
  const dir = mkdtempSync(join(tmpdir(), "kc-bench-cluster-"));
  try {
    const port = await freePort();
    const stats = await freePort();
    const cfg = join(dir, "kc.yml");
    writeFileSync(
      cfg,
      `cluster:
  listen: 127.0.0.1:${port}
  redis: true
  redis_cluster: true
  servers:
${cluster.ports.map((p) => `    - 127.0.0.1:${p}:1`).join("\n")}
`,
    );
    await start(process.execPath, [keepcacheBin(), "run", "-c", cfg, "-s", String(stats)], {
      port,
      env: { ...process.env, KEEPCACHE_LOG_LEVEL: "warn" },
    });
    const samples = await interleave(["ioredis Cluster", "keepcache"], (t) =>
      t === "keepcache" ? load("proxy", port) : load("cluster", cluster.ports[0]),
    );
    const direct = median(samples.get("ioredis Cluster") ?? []);
    const kc = median(samples.get("keepcache") ?? []);
    const k = (rps: number) => `${(rps / 1000).toFixed(0)}k/s`;
    const ratio = kc / direct;
    return [
      {
        name: `SET/GET, ${CLIENTS} clients, ${DEPTH} in flight each`,
        anchor: k(direct),
        keepcache: k(kc),
        ratio,
        target: ">= 0.70x",
        pass: ratio >= 0.7,
      },
    ];
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export { run_ as run };
