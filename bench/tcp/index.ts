/**
 * TCP balancing: keepcache's balancer vs HAProxy (Debian, `mode tcp`), each in front of the
 * same backend process with one server. Rows: bulk MB/s, 64-byte request/response ops/s, new
 * connections/s. Each figure is measured for BENCH_TCP_MS (default 4000 ms) per target.
 * Runnable alone: `node dist/bench/tcp/index.js`.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePorts } from "../../test/helpers/ports.js";
import { start, stopAll } from "../../test/helpers/procs.js";
import { printTable, type Row } from "../lib/table.js";
import { bulk, newConns, pingPong } from "./load.js";

const here = dirname(fileURLToPath(import.meta.url));
const MS = Number(process.env.BENCH_TCP_MS ?? 4000);

function haproxyConfig(listen: number, backend: number): string {
  return [
    "global",
    "  maxconn 4000",
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

export async function run(): Promise<Row[]> {
  const [echo, source, kcEcho, kcSrc, hpEcho, hpSrc] = await freePorts(6);
  // Compiled (dist/bench/tcp/*.js) or run from source under tsx (bench/tcp/*.ts).
  const fromSource = !existsSync(join(here, "backend.js"));
  const node = (f: string, ...a: string[]) =>
    fromSource ? ["--import", "tsx", join(here, `${f}.ts`), ...a] : [join(here, `${f}.js`), ...a];
  await start(process.execPath, node("backend", String(echo), String(source)), { port: echo });
  await start(process.execPath, node("lb-child", String(kcEcho), String(echo)), { port: kcEcho });
  await start(process.execPath, node("lb-child", String(kcSrc), String(source)), { port: kcSrc });
  const dir = mkdtempSync(join(tmpdir(), "kc-bench-tcp-"));
  for (const [name, l, b] of [
    ["echo", hpEcho, echo],
    ["src", hpSrc, source],
  ] as const) {
    const cfg = join(dir, `${name}.cfg`);
    writeFileSync(cfg, haproxyConfig(l, b));
    await start("haproxy", ["-f", cfg, "-db"], { port: l });
  }
  const rows: Row[] = [];
  const row = (name: string, unit: string, hp: number, kc: number) => {
    const ratio = kc / hp;
    rows.push({
      name,
      anchor: `${hp.toFixed(0)} ${unit}`,
      keepcache: `${kc.toFixed(0)} ${unit}`,
      ratio,
      target: ">= 0.70",
      pass: ratio >= 0.7,
    });
  };
  try {
    row("bulk throughput, 4 conns", "MB/s", await bulk(hpSrc, MS), await bulk(kcSrc, MS));
    row("64 B req/resp, 50 conns", "ops/s", await pingPong(hpEcho, MS), await pingPong(kcEcho, MS));
    row(
      "new connections, 20 loops",
      "conn/s",
      await newConns(hpEcho, MS),
      await newConns(kcEcho, MS),
    );
  } finally {
    await stopAll();
  }
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
