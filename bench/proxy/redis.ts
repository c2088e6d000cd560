/**
 * `npm run bench -- proxy` (Redis part): keepcache's proxy, nutcracker 0.5.0 (same config,
 * `redis: true`) and a direct connection, one after the other in front of the same
 * redis-server, under redis-benchmark: 50 clients, SET and GET, with -P 1 and -P 16.
 * Each figure is the median of BENCH_ROUNDS interleaved rounds (rounds.ts). Rows compare
 * keepcache with nutcracker (targets: throughput >= 1.0x, p99 <= nutcracker's); the direct
 * figure is shown in the row name for scale. redis-benchmark --csv gives rps and p99 per test
 * (redis 7.0). RESP3 rows: redis-benchmark -3 (HELLO 3 on each connection) through keepcache,
 * against nutcracker's RESP2 figure (nutcracker cannot speak RESP3), keepcache's own RESP2
 * figure in the name. Extra rows, for information: the same pool with `workers: 2`, and each
 * proxy's CPU time per request (user + system, /proc/PID/stat), the cost behind the throughput
 * rows: on 2 cores the proxy, redis-benchmark and redis-server compete for CPU, so at -P 1 a
 * proxy's throughput follows its CPU per request.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../../tools/ports.js";
import { keepcacheBin, type Proc, start, startRedis, stopAll } from "../../tools/procs.js";
import type { Row } from "../lib/table.js";
import { type Cost, costOf, costRow, medianCost } from "./cost.js";
import { interleave, median } from "./rounds.js";

/** Requests per run: sized so each row stays well under ~10 s on the project's 2 cores. */
const N_PLAIN = Number(process.env.BENCH_REDIS_N ?? 200_000);
const N_PIPELINED = Number(process.env.BENCH_REDIS_N_PIPELINED ?? 300_000);

/**
 * Processes of the extra keepcache row. On the project's 2 cores they share the machine with
 * redis-benchmark and redis-server, so the row shows that the worker model works and what it
 * costs there, not the gain a machine with spare cores would see.
 */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);

interface Figures {
  rps: number;
  p99: number;
}

function benchmark(
  port: number,
  pipeline: number,
  n = pipeline > 1 ? N_PIPELINED : N_PLAIN,
  resp3 = false,
): Promise<Record<string, Figures>> {
  const args = ["-h", "127.0.0.1", "-p", String(port), "-t", "set,get", "-n", String(n)];
  args.push("-c", "50", "-P", String(pipeline), "--csv", "--precision", "3");
  if (resp3) args.push("-3");
  return new Promise((resolve, reject) => {
    const p = spawn("redis-benchmark", args);
    let out = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const t = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.on("error", reject);
    p.on("exit", (code) => {
      clearTimeout(t);
      if (code !== 0) return reject(new Error(`redis-benchmark exited ${code}: ${out}`));
      const res: Record<string, Figures> = {};
      for (const line of out.split("\n")) {
        const cells = line.trim().replaceAll('"', "").split(",");
        if (cells.length < 8 || cells[0] === "test") continue;
        res[cells[0]] = { rps: Number(cells[1]), p99: Number(cells[6]) };
      }
      if (!res.SET || !res.GET)
        return reject(new Error(`unexpected redis-benchmark output: ${out}`));
      resolve(res);
    });
  });
}

/** Median of each figure on its own. */
function medianOf(rs: Record<string, Figures>[]): Record<string, Figures> {
  const out: Record<string, Figures> = {};
  for (const t of ["SET", "GET"])
    out[t] = { rps: median(rs.map((r) => r[t].rps)), p99: median(rs.map((r) => r[t].p99)) };
  return out;
}

const k = (rps: number) => `${(rps / 1000).toFixed(0)}k/s`;

/**
 * Throughput and p99 rows of one test: keepcache against nutcracker (targets: >= 1.0x, p99 <=
 * nutcracker's), the direct figure in the name for scale; `info` rows are shown, not judged.
 */
function compare(
  label: string,
  direct: Figures | undefined,
  nc: Figures,
  kc: Figures,
  info: boolean,
): Row[] {
  return [
    {
      name: direct ? `${label} (direct ${k(direct.rps)})` : label,
      anchor: k(nc.rps),
      keepcache: k(kc.rps),
      ratio: kc.rps / nc.rps,
      target: info ? "info" : ">= 1.0x",
      pass: kc.rps >= nc.rps,
      info,
    },
    {
      name: direct ? `${label} p99 ms (direct ${direct.p99})` : `${label} p99 ms`,
      anchor: String(nc.p99),
      keepcache: String(kc.p99),
      // Higher is better here too: nutcracker's p99 over ours.
      ratio: nc.p99 / kc.p99,
      target: info ? "info" : "<= nutcracker",
      pass: kc.p99 <= nc.p99,
      info,
    },
  ];
}

export async function run(): Promise<Row[]> {
  const [redisPort, kcPort, ncPort, statsPort, ncStats, kcwPort, kcwStats] = await freePorts(7);
  const dir = mkdtempSync(join(tmpdir(), "kc-bench-redis-"));
  try {
    await startRedis(redisPort);
    const pool = (listen: number) =>
      `bench:\n  listen: 127.0.0.1:${listen}\n  hash: fnv1a_64\n  distribution: ketama\n  redis: true\n  servers:\n    - 127.0.0.1:${redisPort}:1\n`;
    writeFileSync(join(dir, "kc.yml"), pool(kcPort));
    writeFileSync(join(dir, "nc.yml"), pool(ncPort));
    // The same pool served by two processes sharing the listening socket (workers: 2).
    writeFileSync(join(dir, "kcw.yml"), `workers: ${WORKERS}\n${pool(kcwPort)}`);
    const kcProc = await start(
      process.execPath,
      [keepcacheBin(), "run", "-c", join(dir, "kc.yml"), "-s", String(statsPort)],
      {
        port: kcPort,
        env: { ...process.env, KEEPCACHE_LOG_LEVEL: "warn" },
      },
    );
    await start(
      process.execPath,
      [keepcacheBin(), "run", "-c", join(dir, "kcw.yml"), "-s", String(kcwStats)],
      { port: kcwPort, env: { ...process.env, KEEPCACHE_LOG_LEVEL: "warn" } },
    );
    const ncProc = await start("nutcracker", ["-c", join(dir, "nc.yml"), "-s", String(ncStats)], {
      port: ncPort,
    });
    // Warm-up, not measured: every proxy gets the same (keepcache's JIT compiles its hot path).
    for (const port of [ncPort, kcPort, kcwPort]) await benchmark(port, 1, 20_000);
    await benchmark(kcPort, 1, 20_000, true);
    const rows: Row[] = [];
    for (const pipeline of [1, 16]) {
      const direct = await benchmark(redisPort, pipeline);
      const ports: Record<string, number> = { nc: ncPort, kc: kcPort, kc3: kcPort, kcw: kcwPort };
      const procs: Record<string, Proc> = { nc: ncProc, kc: kcProc, kc3: kcProc };
      const costs: Record<string, Cost[]> = { nc: [], kc: [], kc3: [] };
      const n = pipeline > 1 ? N_PIPELINED : N_PLAIN;
      // kc3: keepcache with RESP3 clients (redis-benchmark -3).
      const runs = await interleave(["nc", "kc", "kc3", "kcw"], async (t) => {
        const proc = procs[t];
        if (proc === undefined) return benchmark(ports[t], pipeline);
        // SET then GET: 2n requests.
        const { result, cost } = await costOf(
          proc,
          () => benchmark(ports[t], pipeline, undefined, t === "kc3"),
          () => 2 * n,
        );
        costs[t].push(cost);
        return result;
      });
      const nc = medianOf(runs.get("nc") ?? []);
      const kc = medianOf(runs.get("kc") ?? []);
      const kc3 = medianOf(runs.get("kc3") ?? []);
      const kcw = medianOf(runs.get("kcw") ?? []);
      for (const t of ["SET", "GET"]) {
        const label = `redis-benchmark ${t} -c 50 -P ${pipeline}`;
        rows.push(...compare(label, direct[t], nc[t], kc[t], false));
      }
      for (const t of ["SET", "GET"]) {
        const label = `redis-benchmark -3 (RESP3) ${t} -c 50 -P ${pipeline} vs nutcracker RESP2 (keepcache RESP2 ${k(kc[t].rps)})`;
        rows.push(...compare(label, undefined, nc[t], kc3[t], false));
      }
      for (const t of ["SET", "GET"]) {
        const label = `redis-benchmark ${t} -c 50 -P ${pipeline}, keepcache workers: ${WORKERS}`;
        rows.push(...compare(label, undefined, nc[t], kcw[t], true));
      }
      const label = `proxy CPU per request, SET+GET -c 50 -P ${pipeline}`;
      rows.push(costRow(label, medianCost(costs.nc), medianCost(costs.kc)));
      const label3 = `proxy CPU per request, SET+GET -c 50 -P ${pipeline}, keepcache with RESP3 clients`;
      rows.push(costRow(label3, medianCost(costs.nc), medianCost(costs.kc3)));
    }
    return rows;
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
