/**
 * `npm run bench -- proxy`: keepcache's proxy against nutcracker 0.5.0 (same nutcracker.yml)
 * and a direct connection in front of the same memcached, under memcaslap (1 thread, 32
 * connections, 100-byte values, 20-byte keys; get-heavy 90/10 and set-heavy 10/90). The
 * targets: throughput >= 1.0x nutcracker, p99 <= nutcracker's. Each row is the median of
 * BENCH_ROUNDS interleaved rounds (rounds.ts) of BENCH_SECONDS each; the direct figure (one
 * run) is shown for scale. An info row gives each proxy's CPU per request (cost.ts). The Redis
 * rows (redis-benchmark) come from ./redis.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../../tools/ports.js";
import { startMemcached, stopAll } from "../../tools/procs.js";
import { loadItems } from "../lib/loader.js";
import { type LoadResult, memcaslap } from "../lib/memcaslap.js";
import { startProxies } from "../lib/proxies.js";
import type { Row } from "../lib/table.js";
import { type Cost, costOf, costRow, medianCost } from "./cost.js";
import { interleave, median } from "./rounds.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

const fmt = (n: number) => `${(n / 1000).toFixed(0)}k`;
const us = (n: number) => `${n.toFixed(0)}µs`;

export async function memcacheRows(): Promise<Row[]> {
  const [mcPort, kcPort, ncPort, kcStats, ncStats] = await freePorts(5);
  const dir = mkdtempSync(join(tmpdir(), "kc-bench-proxy-"));
  try {
    await startMemcached(mcPort, ["-m", "256"]);
    const pool = (listen: number) =>
      `bench:\n  listen: 127.0.0.1:${listen}\n  hash: fnv1a_64\n  distribution: ketama\n  servers:\n    - 127.0.0.1:${mcPort}:1\n`;
    const procs = await startProxies(dir, pool, { kc: kcPort, kcStats, nc: ncPort, ncStats });
    await loadItems(mcPort, 1000);
    const load = (port: number, getRatio: number, seconds = SECONDS) =>
      memcaslap(`127.0.0.1:${port}`, {
        getRatio,
        valueBytes: 100,
        keyBytes: 20,
        seconds,
        concurrency: 32,
      });
    // Warm-up, not measured: both proxies get the same (keepcache's JIT compiles its hot path).
    for (const port of [ncPort, kcPort]) await load(port, 0.9, 1);
    const rows: Row[] = [];
    for (const [label, ratio] of [
      ["get 90/10", 0.9],
      ["set 10/90", 0.1],
    ] as const) {
      const direct = await load(mcPort, ratio);
      const ports: Record<string, number> = { nc: ncPort, kc: kcPort };
      const costs: Record<string, Cost[]> = { nc: [], kc: [] };
      const runs = await interleave(["nc", "kc"], async (t) => {
        const proc = t === "nc" ? procs.nc : procs.kc;
        const { result, cost } = await costOf(
          proc,
          () => load(ports[t], ratio),
          (r) => r.ops,
        );
        costs[t].push(cost);
        return result;
      });
      const nc = medianOf(runs.get("nc") ?? []);
      const kc = medianOf(runs.get("kc") ?? []);
      rows.push(...pair(`memcaslap ${label} -c 32 (direct ${fmt(direct.tps)} ops/s)`, nc, kc));
      rows.push(
        costRow(
          `proxy CPU per request, memcaslap ${label} -c 32`,
          medianCost(costs.nc),
          medianCost(costs.kc),
        ),
      );
    }
    return rows;
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median of each figure on its own (the runs are independent samples). */
function medianOf(rs: LoadResult[]): LoadResult {
  return {
    tps: median(rs.map((r) => r.tps)),
    ops: median(rs.map((r) => r.ops)),
    p50us: median(rs.map((r) => r.p50us)),
    p99us: median(rs.map((r) => r.p99us)),
  };
}

function pair(label: string, nc: LoadResult, kc: LoadResult): Row[] {
  return [
    {
      name: label,
      anchor: `${fmt(nc.tps)} ops/s p50 ${us(nc.p50us)}`,
      keepcache: `${fmt(kc.tps)} ops/s p50 ${us(kc.p50us)}`,
      ratio: kc.tps / nc.tps,
      target: ">= 1.0x",
      pass: kc.tps >= nc.tps,
    },
    {
      name: `${label} p99`,
      anchor: us(nc.p99us),
      keepcache: us(kc.p99us),
      ratio: nc.p99us / kc.p99us,
      target: "<= nutcracker",
      pass: kc.p99us <= nc.p99us,
    },
  ];
}

export async function run(): Promise<Row[]> {
  const rows = await memcacheRows();
  const redis = await import("./redis.js");
  return rows.concat(await redis.run());
}
