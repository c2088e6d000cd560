/**
 * `npm run bench -- node`: keepcache node against real memcached, one after the other, under the
 * same load generator (memcaslap, 1 thread, 32 connections, 100-byte values, 20-byte keys).
 *
 * Rows: get-heavy (90/10) and set-heavy (10/90) throughput with p50/p99; p99 under the
 * get-heavy load with 1k items loaded and with 1M items loaded; RSS after loading 1M items.
 */

import { freePort } from "../../tools/ports.js";
import { keepcacheBin, type Proc, start, startMemcached } from "../../tools/procs.js";
import { memoryOf } from "../../tools/rss.js";
import { loadItems } from "../lib/loader.js";
import { type LoadResult, memcaslap } from "../lib/memcaslap.js";
import type { Row } from "../lib/table.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const MEMORY_MB = 1024;

interface Target {
  name: string;
  start(port: number): Promise<Proc>;
}

const targets: Target[] = [
  { name: "memcached", start: (port) => startMemcached(port, ["-m", String(MEMORY_MB)]) },
  {
    name: "keepcache",
    start: (port) =>
      start(
        process.execPath,
        [keepcacheBin(), "node", "-p", String(port), "-m", String(MEMORY_MB)],
        {
          port,
        },
      ),
  },
];

async function measure(t: Target) {
  const load = (getRatio: number) =>
    memcaslap(`127.0.0.1:${port}`, {
      getRatio,
      valueBytes: 100,
      keyBytes: 20,
      seconds: SECONDS,
      concurrency: 32,
    });
  const port = await freePort();
  let proc = await t.start(port);
  await loadItems(port, 1000);
  const small = await load(0.9);
  const setHeavy = await load(0.1);
  await proc.stop();
  // A fresh process for the memory figure, so earlier loads do not inflate it.
  proc = await t.start(port);
  const before = memoryOf(proc.child.pid!).rss;
  await loadItems(port, 1_000_000);
  const rss = memoryOf(proc.child.pid!).rss;
  const big = await load(0.9);
  await proc.stop();
  return { small, setHeavy, big, rss, idleRss: before };
}

export async function run(): Promise<Row[]> {
  const res: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const t of targets) res[t.name] = await measure(t);
  const m = res.memcached;
  const k = res.keepcache;
  const tp = (name: string, a: LoadResult, b: LoadResult): Row => ({
    name,
    anchor: `${fmt(a.tps)} ops/s p50 ${us(a.p50us)} p99 ${us(a.p99us)}`,
    keepcache: `${fmt(b.tps)} ops/s p50 ${us(b.p50us)} p99 ${us(b.p99us)}`,
    ratio: b.tps / a.tps,
    target: ">= 0.8",
    pass: b.tps / a.tps >= 0.8,
  });
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
  return [
    tp("get 90/10, 1k items", m.small, k.small),
    tp("set 10/90", m.setHeavy, k.setHeavy),
    tp("get 90/10, 1M items", m.big, k.big),
    {
      name: "RSS after 1M x 100 B",
      anchor: mb(m.rss),
      keepcache: mb(k.rss),
      ratio: k.rss / m.rss,
      target: "<= 2.0",
      pass: k.rss / m.rss <= 2,
    },
    {
      name: "p99 1M items / p99 1k items",
      anchor: `${(m.big.p99us / m.small.p99us).toFixed(2)}x`,
      keepcache: `${(k.big.p99us / k.small.p99us).toFixed(2)}x`,
      ratio: k.big.p99us / k.small.p99us,
      target: "<= 2.0",
      pass: k.big.p99us / k.small.p99us <= 2,
    },
  ];
}

function fmt(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}
function us(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)}ms` : `${n.toFixed(0)}µs`;
}
