/**
 * `npm run bench -- multiget`: one client asks for 60,000 keys in one `get` (100-byte values,
 * about 7.6 MB of reply) while another client sends single-key gets on its own connection.
 *
 * - keepcache node against memcached: the big get's time (target: within 2x memcached's), and
 *   the other client's p99 and max meanwhile (target: p99 under 50 ms, no error).
 * - keepcache's proxy against nutcracker over the same three memcached (ketama, fnv1a_64):
 *   the big get's keys live on shards a and b, the other client's key on shard c.
 *
 * Each big get runs BENCH_ROUNDS times (default 5) on a fresh connection; the row shows the
 * median. The other client pauses 1 ms between requests, so it is a light client, not load.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRouter } from "../../src/proxy/distribution/index.js";
import { hitReplyBytes, loaderKeys, Prober, timedGet } from "../../tools/big-get.js";
import { freePorts } from "../../tools/ports.js";
import { keepcacheBin, start, startMemcached, stopAll } from "../../tools/procs.js";
import { loadItems } from "../lib/loader.js";
import { startProxies } from "../lib/proxies.js";
import type { Row } from "../lib/table.js";
import { median } from "../proxy/rounds.js";

const KEYS = 60_000;
const VALUE = 100;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

interface Figures {
  medianMs: number;
  p99ms: number;
  maxMs: number;
  probes: number;
  errors: number;
}

/** The big get ROUNDS times against `port` while a Prober gets `probeKey` from `probePort`. */
async function measure(
  port: number,
  keys: string[],
  probePort: number,
  probeKey: string,
): Promise<Figures> {
  const want = hitReplyBytes(keys, VALUE);
  // One round not measured: connections opened and code paths warmed for every target alike.
  await timedGet(port, keys);
  const expect = `VALUE ${probeKey} 0 ${VALUE}\r\n${"a".repeat(VALUE)}\r\nEND\r\n`;
  const probe = new Prober(probePort, probeKey, expect).start();
  await new Promise((r) => setTimeout(r, 200));
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const g = await timedGet(port, keys);
    if (!g.ended || g.bytes !== want)
      throw new Error(`get of ${keys.length} keys: ${g.bytes} bytes (${g.last}), expected ${want}`);
    times.push(g.ms);
  }
  const p = await probe.stop();
  return {
    medianMs: median(times),
    p99ms: p.p99ms,
    maxMs: p.maxMs,
    probes: p.count,
    errors: p.errors.length,
  };
}

const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;

function rows(what: string, anchor: Figures, kc: Figures): Row[] {
  return [
    {
      name: `get of ${KEYS} keys ${what}`,
      anchor: ms(anchor.medianMs),
      keepcache: ms(kc.medianMs),
      ratio: kc.medianMs / anchor.medianMs,
      target: "time <= 2.0x",
      pass: kc.medianMs <= 2 * anchor.medianMs,
    },
    {
      name: `  another client meanwhile: p99 (max, errors of n)`,
      anchor: `${ms(anchor.p99ms)} (${ms(anchor.maxMs)}, ${anchor.errors}/${anchor.probes})`,
      keepcache: `${ms(kc.p99ms)} (${ms(kc.maxMs)}, ${kc.errors}/${kc.probes})`,
      ratio: kc.p99ms / anchor.p99ms,
      target: "p99 < 50 ms, 0 errors",
      pass: kc.p99ms < 50 && kc.errors === 0,
    },
  ];
}

async function nodeRows(): Promise<Row[]> {
  const [mcPort, kcPort] = await freePorts(2);
  await startMemcached(mcPort, ["-m", "256"]);
  await start(process.execPath, [keepcacheBin(), "node", "-p", String(kcPort), "-m", "256"], {
    port: kcPort,
  });
  const keys = loaderKeys(KEYS);
  for (const port of [mcPort, kcPort]) await loadItems(port, KEYS, 10, VALUE);
  const probeKey = keys[KEYS - 1];
  const mc = await measure(mcPort, keys, mcPort, probeKey);
  const kc = await measure(kcPort, keys, kcPort, probeKey);
  await stopAll();
  return rows("(keepcache node vs memcached)", mc, kc);
}

async function proxyRows(): Promise<Row[]> {
  const ports = await freePorts(7);
  const [a, b, c, ncPort, kcPort, ncStats, kcStats] = ports;
  const dir = mkdtempSync(join(tmpdir(), "kc-bench-multiget-"));
  try {
    for (const p of [a, b, c]) await startMemcached(p, ["-m", "256"]);
    // Named servers: ketama hashes the names, so the shard of a key does not depend on ports.
    const names = ["a", "b", "c"];
    const pool = (listen: number) =>
      `bench:\n  listen: 127.0.0.1:${listen}\n  hash: fnv1a_64\n  distribution: ketama\n  timeout: 400\n  servers:\n${[a, b, c].map((p, i) => `    - 127.0.0.1:${p}:1 ${names[i]}\n`).join("")}`;
    await startProxies(dir, pool, { kc: kcPort, kcStats, nc: ncPort, ncStats });
    // Every memcached holds every key; the big get asks only for keys owned by a or b.
    const picker = buildRouter({
      servers: names.map((name) => ({ name, weight: 1, live: true })),
      hash: "fnv1a_64",
      distribution: "ketama",
    });
    const all = loaderKeys(2 * KEYS);
    for (const p of [a, b, c]) await loadItems(p, all.length, 10, VALUE);
    const shard = (k: string) => {
      const buf = Buffer.from(k, "latin1");
      return picker.pick(buf, 0, buf.length);
    };
    const keys = all.filter((k) => shard(k) !== 2).slice(0, KEYS);
    if (keys.length < KEYS) throw new Error("not enough keys on shards a and b");
    const probeKey = all.find((k) => shard(k) === 2) as string;
    const nc = await measure(ncPort, keys, ncPort, probeKey);
    const kc = await measure(kcPort, keys, kcPort, probeKey);
    return rows("(2 shards; keepcache proxy vs nutcracker)", nc, kc);
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Row[]> {
  return [...(await nodeRows()), ...(await proxyRows())];
}
