/**
 * Runs memcaslap (libmemcached-tools) against one server and reads its report: throughput and
 * the latency histogram. memcaslap prints latencies in log2 buckets (µs); percentiles are
 * interpolated inside the bucket, which is coarse but identical for every target measured.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface LoadResult {
  tps: number;
  /** Operations completed in the run. */
  ops: number;
  p50us: number;
  p99us: number;
}

export interface LoadSpec {
  /** Share of gets (0-1); the rest are sets. */
  getRatio: number;
  valueBytes: number;
  keyBytes: number;
  seconds: number;
  concurrency: number;
  threads?: number;
}

export async function memcaslap(server: string, spec: LoadSpec): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "kc-bench-"));
  const cfg = join(dir, "load.cfg");
  const k = spec.keyBytes;
  const v = spec.valueBytes;
  writeFileSync(
    cfg,
    `key\n${k} ${k} 1\nvalue\n${v} ${v} 1\ncmd\n0 ${(1 - spec.getRatio).toFixed(2)}\n1 ${spec.getRatio.toFixed(2)}\n`,
  );
  const { stdout } = await run(
    "memcaslap",
    [
      "-s",
      server,
      "-T",
      String(spec.threads ?? 1),
      "-c",
      String(spec.concurrency),
      "-t",
      `${spec.seconds}s`,
      "-S",
      `${spec.seconds}s`,
      "-F",
      cfg,
    ],
    { timeout: (spec.seconds + 30) * 1000, maxBuffer: 16 * 1024 * 1024 },
  );
  return parseReport(stdout);
}

export function parseReport(text: string): LoadResult {
  const tpsMatch = /Run time: [\d.]+s Ops: (\d+) TPS: (\d+)/.exec(text);
  if (!tpsMatch) throw new Error(`memcaslap printed no result:\n${text.slice(-2000)}`);
  // The "Total Statistics (N events)" block's "Log2 Dist" rows: "  r:  c_r c_r+1 c_r+2 c_r+3".
  const total = text.slice(text.lastIndexOf("Total Statistics ("));
  const buckets = new Map<number, number>();
  for (const m of total.matchAll(/^\s+(\d+):((?:\s+\d+)+)\s*$/gm)) {
    const base = Number(m[1]);
    const counts = m[2].trim().split(/\s+/);
    for (let i = 0; i < counts.length; i++) buckets.set(base + i, Number(counts[i]));
  }
  return {
    tps: Number(tpsMatch[2]),
    ops: Number(tpsMatch[1]),
    p50us: percentile(buckets, 0.5),
    p99us: percentile(buckets, 0.99),
  };
}

/** Percentile from log2 buckets (bucket b holds latencies in [2^b, 2^(b+1)) µs). */
function percentile(buckets: Map<number, number>, q: number): number {
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  const n = keys.reduce((s, b) => s + (buckets.get(b) ?? 0), 0);
  if (n === 0) return Number.NaN;
  let seen = 0;
  for (const b of keys) {
    const c = buckets.get(b) ?? 0;
    if (seen + c >= q * n) {
      const frac = c === 0 ? 0 : (q * n - seen) / c;
      return 2 ** b * (1 + frac); // linear inside [2^b, 2^(b+1))
    }
    seen += c;
  }
  return 2 ** ((keys.at(-1) ?? 0) + 1);
}
