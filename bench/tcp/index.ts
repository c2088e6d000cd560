/**
 * TCP balancing: keepcache's balancer vs HAProxy (Debian, `mode tcp`), each in front of the
 * same backend process with one server. Rows: bulk MB/s, 64-byte request/response ops/s, new
 * connections/s.
 *
 * Fairness: HAProxy runs with `nbthread 2` (its default on this 2-core machine, written out
 * so the figure says what it is); keepcache is measured with `workers: 2` (the primary plus one
 * worker process sharing the listening socket: the same number of data-plane threads) and, for
 * reference, with a single process. The load generator is bench/tcp/loadgen.c (one C thread,
 * epoll), compiled with cc, so it takes as little as possible of the shared cores and treats
 * both balancers alike; without a C compiler the Node generator (load.ts) is used.
 *
 * Noise: the machine is shared, so each row runs BENCH_TCP_ROUNDS rounds (default 7) in which
 * haproxy and both keepcache setups are measured back to back for BENCH_TCP_MS each (default
 * 1000 ms), in alternating order. The figures are medians over rounds; the ratio is the median
 * of the per-round ratios (paired samples, so slow phases of the machine cancel out).
 * Runnable alone: `node dist/bench/tcp/index.js`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePorts } from "../../tools/ports.js";
import { repoRoot, start, stopAll } from "../../tools/procs.js";
import { printTable, type Row } from "../lib/table.js";
import { bulk, newConns, pingPong } from "./load.js";

const here = dirname(fileURLToPath(import.meta.url));
const MS = Number(process.env.BENCH_TCP_MS ?? 1000);
const ROUNDS = Number(process.env.BENCH_TCP_ROUNDS ?? 7);
const THREADS = 2;

function haproxyConfig(listen: number, backend: number): string {
  return [
    "global",
    "  maxconn 4000",
    `  nbthread ${THREADS}`,
    "defaults",
    "  mode tcp",
    "  timeout connect 3s",
    "  timeout client 60s",
    "  timeout server 60s",
    "frontend fe",
    `  bind 127.0.0.1:${listen}`,
    "  default_backend be",
    "backend be",
    `  server s1 127.0.0.1:${backend}`,
    "",
  ].join("\n");
}

type Load = "bulk" | "pingpong" | "conns";

/** The C generator when cc is there, else undefined. */
function buildLoadgen(dir: string): string | undefined {
  const src = join(repoRoot(), "bench", "tcp", "loadgen.c");
  const bin = join(dir, "loadgen");
  try {
    execFileSync("cc", ["-O2", "-o", bin, src], { stdio: "ignore" });
    return bin;
  } catch {
    return undefined;
  }
}

function measure(gen: string | undefined, load: Load, port: number, ms = MS): Promise<number> {
  const n = { bulk: 4, pingpong: 50, conns: 20 }[load];
  if (gen === undefined) {
    const f = { bulk, pingpong: pingPong, conns: newConns }[load];
    return f(port, ms, n);
  }
  const out = execFileSync(gen, [load, String(port), String(ms), String(n)], {
    encoding: "utf8",
    timeout: ms + 10_000,
  });
  return Promise.resolve(Number(out.trim()));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(): Promise<Row[]> {
  const [echo, source, ...lbPorts] = await freePorts(8);
  const [hpEcho, hpSrc, k2Echo, k2Src, k1Echo, k1Src] = lbPorts;
  // Compiled (dist/bench/tcp/*.js) or run from source under tsx (bench/tcp/*.ts).
  const fromSource = !existsSync(join(here, "backend.js"));
  const node = (f: string, ...a: string[]) =>
    fromSource ? ["--import", "tsx", join(here, `${f}.ts`), ...a] : [join(here, `${f}.js`), ...a];
  const dir = mkdtempSync(join(tmpdir(), "kc-bench-tcp-"));
  const gen = buildLoadgen(dir);
  await start(process.execPath, node("backend", String(echo), String(source)), { port: echo });
  for (const [l, b, w] of [
    [k2Echo, echo, THREADS],
    [k2Src, source, THREADS],
    [k1Echo, echo, 1],
    [k1Src, source, 1],
  ])
    await start(process.execPath, node("lb-child", String(l), String(b), String(w)), { port: l });
  for (const [name, l, b] of [
    ["echo", hpEcho, echo],
    ["src", hpSrc, source],
  ] as const) {
    const cfg = join(dir, `${name}.cfg`);
    writeFileSync(cfg, haproxyConfig(l, b));
    await start("haproxy", ["-f", cfg, "-db"], { port: l });
  }
  const rows: Row[] = [];
  /** `ratio` is the median of the per-round ratios (each round measures both back to back). */
  const row = (
    name: string,
    unit: string,
    hp: number,
    kc: number,
    ratio: number,
    target = true,
  ) => {
    rows.push({
      name,
      anchor: `${hp.toFixed(0)} ${unit}`,
      keepcache: `${kc.toFixed(0)} ${unit}`,
      ratio,
      target: target ? ">= 0.70" : "(info)",
      pass: !target || ratio >= 0.7,
    });
  };
  const loads: [Load, string, string, number, number, number][] = [
    ["bulk", "bulk throughput, 4 conns", "MB/s", hpSrc, k2Src, k1Src],
    ["pingpong", "64 B req/resp, 50 conns", "ops/s", hpEcho, k2Echo, k1Echo],
    ["conns", "new connections, 20 in flight", "conn/s", hpEcho, k2Echo, k1Echo],
  ];
  try {
    for (const [load, title, unit, hp, k2, k1] of loads) {
      // Warm-up (JIT, connection tables), not counted.
      for (const p of [hp, k2, k1]) await measure(gen, load, p, 300);
      const r: Record<"hp" | "k2" | "k1", number[]> = { hp: [], k2: [], k1: [] };
      const q: Record<"k2" | "k1", number[]> = { k2: [], k1: [] };
      for (let i = 0; i < ROUNDS; i++) {
        // Alternate the order so that drift in the machine's other load hits both sides.
        const order = i % 2 === 0 ? (["hp", "k2", "k1"] as const) : (["k1", "k2", "hp"] as const);
        const got = { hp: 0, k2: 0, k1: 0 };
        for (const who of order) got[who] = await measure(gen, load, { hp, k2, k1 }[who]);
        for (const who of order) r[who].push(got[who]);
        q.k2.push(got.k2 / got.hp);
        q.k1.push(got.k1 / got.hp);
      }
      row(`${title} (workers ${THREADS})`, unit, median(r.hp), median(r.k2), median(q.k2));
      row(`${title} (1 process)`, unit, median(r.hp), median(r.k1), median(q.k1), false);
    }
  } finally {
    await stopAll();
  }
  const how = gen ? "C load generator" : "Node load generator";
  process.stdout.write(
    `haproxy nbthread ${THREADS}; keepcache workers ${THREADS} and 1; ${how}; medians of ${ROUNDS} paired rounds x ${MS} ms\n`,
  );
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  run()
    .then((rows) => printTable("keepcache TCP balancer vs haproxy (tcp mode)", "haproxy", rows))
    .catch(async (e) => {
      console.error(e);
      await stopAll();
      process.exitCode = 1;
    });
}
