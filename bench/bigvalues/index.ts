/**
 * `npm run bench -- bigvalues`: 8 ioredis clients each SET then GET one 64 MB value at once
 * (BENCH_BIG_CLIENTS, BENCH_BIG_MB) through keepcache's proxy and through nutcracker, both in
 * front of the same redis-server; then, on fresh proxies (VmHWM is a process's peak so far), 8
 * clients each LRANGE a list of 4 x 16 MB at once (BENCH_BIG_ELEMS, BENCH_BIG_ELEM_MB): an
 * aggregate reply holding large values; then 4 clients each LRANGE a list of 500,000 x 100-byte
 * items at once (BENCH_BIG_ITEM_CLIENTS, BENCH_BIG_ITEMS): an aggregate of many small elements.
 * The figure is each proxy's peak RSS (VmHWM) against the data in flight; keepcache streams
 * large values and large aggregates in pieces, so its target is under 2x.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePorts } from "../../tools/ports.js";
import { startRedis, stopAll } from "../../tools/procs.js";
import { memoryOf } from "../../tools/rss.js";
import { startProxies } from "../lib/proxies.js";
import type { Row } from "../lib/table.js";

const MB = 1024 * 1024;
const CLIENTS = Number(process.env.BENCH_BIG_CLIENTS ?? 8);
const SIZE = Number(process.env.BENCH_BIG_MB ?? 64) * MB;
const ELEMS = Number(process.env.BENCH_BIG_ELEMS ?? 4);
const ELEM = Number(process.env.BENCH_BIG_ELEM_MB ?? 16) * MB;
const ITEM_CLIENTS = Number(process.env.BENCH_BIG_ITEM_CLIENTS ?? 4);
const ITEMS = Number(process.env.BENCH_BIG_ITEMS ?? 500_000);
/** An item's bytes on the wire: "$100\r\n", 100 bytes, "\r\n". */
const ITEM_WIRE = 108;

interface Result {
  hwm: number;
  ms: number;
  /** Why the proxy could not move the values (nutcracker closes the connection on them). */
  failed?: string;
}

/** `work` on `clients` connections to `port` at once; the proxy's peak RSS after. */
async function measure(
  port: number,
  pid: number,
  work: (c: Redis, i: number) => Promise<void>,
  clients = CLIENTS,
): Promise<Result> {
  const cs = Array.from({ length: clients }, () => {
    const c = new Redis({
      port,
      host: "127.0.0.1",
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on("error", () => {});
    return c;
  });
  const t0 = Date.now();
  try {
    await Promise.all(cs.map((c) => c.ping()));
    await Promise.all(cs.map(work));
    return { hwm: memoryOf(pid).hwm, ms: Date.now() - t0 };
  } catch (err) {
    return { hwm: memoryOf(pid).hwm, ms: Date.now() - t0, failed: (err as Error).message };
  } finally {
    for (const c of cs) c.disconnect();
  }
}

const setGet = (port: number) => async (c: Redis, i: number) => {
  const value = Buffer.alloc(SIZE, 97 + i);
  await c.set(`big:${port}:${i}`, value);
  const back = await c.getBuffer(`big:${port}:${i}`);
  if (back?.length !== SIZE) throw new Error(`value ${i} came back with ${back?.length} bytes`);
  await c.del(`big:${port}:${i}`);
};

const lrange = async (c: Redis, i: number) => {
  const got = await c.lrangeBuffer("big:list", 0, -1);
  if (got.length !== ELEMS || got.some((e) => e.length !== ELEM))
    throw new Error(`client ${i}: LRANGE came back with ${got.length} elements`);
};

const lrangeItems = async (c: Redis, i: number) => {
  const got = await c.lrangeBuffer("big:items", 0, -1);
  if (got.length !== ITEMS || got.some((e) => e.length !== 100))
    throw new Error(`client ${i}: LRANGE came back with ${got.length} items`);
};

/** A keepcache proxy and a nutcracker, fresh (their VmHWM starts low), before `redis`. */
async function proxies(dir: string, redis: number, tag: string) {
  const [kc, kcStats, nc, ncStats] = await freePorts(4);
  const sub = join(dir, tag);
  mkdirSync(sub);
  const pool = (listen: number) =>
    `big:\n  listen: 127.0.0.1:${listen}\n  redis: true\n  timeout: 30000\n  servers:\n    - 127.0.0.1:${redis}:1\n`;
  const procs = await startProxies(sub, pool, { kc, kcStats, nc, ncStats });
  return { kc, kcPid: procs.kc.child.pid as number, nc, ncPid: procs.nc.child.pid as number };
}

/** The peak-RSS row of one scenario (target: under 2x the data in flight). */
function rssRow(name: string, nc: Result, kc: Result, flight: number): Row {
  const x = (r: Result) =>
    r.failed !== undefined
      ? `failed: ${r.failed.slice(0, 40)}`
      : `${(r.hwm / MB).toFixed(0)} MB (${(r.hwm / flight).toFixed(2)}x)`;
  return {
    name,
    anchor: x(nc),
    keepcache: x(kc),
    // The anchor's figure when it moved the values too (nutcracker closes the connection).
    ratio: nc.failed === undefined ? nc.hwm / kc.hwm : 0,
    target: "< 2x in flight",
    pass: kc.failed === undefined && kc.hwm < 2 * flight,
  };
}

/** The wall-time row of one scenario (information). */
function timeRow(name: string, nc: Result, kc: Result): Row {
  return {
    name,
    anchor: nc.failed === undefined ? `${nc.ms} ms` : "failed",
    keepcache: `${kc.ms} ms`,
    ratio: nc.failed === undefined ? nc.ms / kc.ms : 0,
    target: "info",
    pass: true,
    info: true,
  };
}

export async function run(): Promise<Row[]> {
  const [redis] = await freePorts(1);
  const dir = mkdtempSync(join(tmpdir(), "kc-bench-big-"));
  try {
    await startRedis(redis);
    const p = await proxies(dir, redis, "setget");
    const ncr = await measure(p.nc, p.ncPid, setGet(p.nc));
    const kcr = await measure(p.kc, p.kcPid, setGet(p.kc));
    const inFlight = CLIENTS * SIZE;
    // The list is loaded directly: the proxies see only the LRANGE replies.
    const loader = new Redis({ port: redis, host: "127.0.0.1" });
    for (let i = 0; i < ELEMS; i++) await loader.rpush("big:list", Buffer.alloc(ELEM, 97 + i));
    loader.disconnect();
    const q = await proxies(dir, redis, "lrange");
    const ncl = await measure(q.nc, q.ncPid, lrange);
    const kcl = await measure(q.kc, q.kcPid, lrange);
    const listFlight = CLIENTS * ELEMS * ELEM;
    const item = Buffer.alloc(100, "i");
    const loader2 = new Redis({ port: redis, host: "127.0.0.1" });
    for (let i = 0; i < ITEMS; i += 10_000) {
      const n = Math.min(10_000, ITEMS - i);
      await loader2.rpush("big:items", ...Array.from({ length: n }, () => item));
    }
    loader2.disconnect();
    const r = await proxies(dir, redis, "items");
    const nci = await measure(r.nc, r.ncPid, lrangeItems, ITEM_CLIENTS);
    const kci = await measure(r.kc, r.kcPid, lrangeItems, ITEM_CLIENTS);
    const itemFlight = ITEM_CLIENTS * ITEMS * ITEM_WIRE;
    const setGetName = `${CLIENTS} clients x ${SIZE / MB} MB SET+GET`;
    const nestedName = `${CLIENTS} clients LRANGE ${ELEMS} x ${ELEM / MB} MB (nested)`;
    return [
      rssRow(`${setGetName}: proxy peak RSS vs ${inFlight / MB} MB in flight`, ncr, kcr, inFlight),
      timeRow(`${setGetName}: wall time`, ncr, kcr),
      rssRow(
        `${nestedName}: proxy peak RSS vs ${listFlight / MB} MB in flight`,
        ncl,
        kcl,
        listFlight,
      ),
      timeRow(`${nestedName}: wall time`, ncl, kcl),
      rssRow(
        `${ITEM_CLIENTS} clients LRANGE ${ITEMS} x 100 B (many small): proxy peak RSS vs ${(itemFlight / MB).toFixed(0)} MB in flight`,
        nci,
        kci,
        itemFlight,
      ),
    ];
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
