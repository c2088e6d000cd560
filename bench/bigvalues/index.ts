/**
 * `npm run bench -- bigvalues`: 8 ioredis clients each SET then GET one 64 MB value at once
 * (BENCH_BIG_CLIENTS, BENCH_BIG_MB) through keepcache's proxy and through nutcracker, both in
 * front of the same redis-server. The figure is each proxy's peak RSS (VmHWM) against the
 * data in flight; keepcache streams large values in pieces, so its target is under 2x.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePorts } from "../../tools/ports.js";
import { keepcacheBin, start, startRedis, stopAll } from "../../tools/procs.js";
import { memoryOf } from "../../tools/rss.js";
import type { Row } from "../lib/table.js";

const MB = 1024 * 1024;
const CLIENTS = Number(process.env.BENCH_BIG_CLIENTS ?? 8);
const SIZE = Number(process.env.BENCH_BIG_MB ?? 64) * MB;

interface Result {
  hwm: number;
  ms: number;
  /** Why the proxy could not move the values (nutcracker closes the connection on them). */
  failed?: string;
}

async function moveValues(port: number, pid: number): Promise<Result> {
  const cs = Array.from({ length: CLIENTS }, () => {
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
    await Promise.all(
      cs.map(async (c, i) => {
        const value = Buffer.alloc(SIZE, 97 + i);
        await c.set(`big:${port}:${i}`, value);
        const back = await c.getBuffer(`big:${port}:${i}`);
        if (back?.length !== SIZE)
          throw new Error(`value ${i} came back with ${back?.length} bytes`);
        await c.del(`big:${port}:${i}`);
      }),
    );
    return { hwm: memoryOf(pid).hwm, ms: Date.now() - t0 };
  } catch (err) {
    return { hwm: memoryOf(pid).hwm, ms: Date.now() - t0, failed: (err as Error).message };
  } finally {
    for (const c of cs) c.disconnect();
  }
}

export async function run(): Promise<Row[]> {
  const [redis, kc, kcStats, nc, ncStats] = await freePorts(5);
  const dir = mkdtempSync(join(tmpdir(), "kc-bench-big-"));
  try {
    await startRedis(redis);
    const pool = (listen: number) =>
      `big:\n  listen: 127.0.0.1:${listen}\n  redis: true\n  timeout: 30000\n  servers:\n    - 127.0.0.1:${redis}:1\n`;
    writeFileSync(join(dir, "kc.yml"), pool(kc));
    writeFileSync(join(dir, "nc.yml"), pool(nc));
    const k = await start(
      process.execPath,
      [keepcacheBin(), "run", "-c", join(dir, "kc.yml"), "-s", String(kcStats)],
      { port: kc, env: { ...process.env, KEEPCACHE_LOG_LEVEL: "warn" } },
    );
    const n = await start("nutcracker", ["-c", join(dir, "nc.yml"), "-s", String(ncStats)], {
      port: nc,
    });
    const ncr = await moveValues(nc, n.child.pid as number);
    const kcr = await moveValues(kc, k.child.pid as number);
    const inFlight = CLIENTS * SIZE;
    const x = (r: Result) =>
      r.failed !== undefined
        ? `failed: ${r.failed.slice(0, 40)}`
        : `${(r.hwm / MB).toFixed(0)} MB (${(r.hwm / inFlight).toFixed(2)}x)`;
    return [
      {
        name: `${CLIENTS} clients x ${SIZE / MB} MB SET+GET: proxy peak RSS vs ${inFlight / MB} MB in flight`,
        anchor: x(ncr),
        keepcache: x(kcr),
        // The anchor's figure when it moved the values too (nutcracker closes the connection).
        ratio: ncr.failed === undefined ? ncr.hwm / kcr.hwm : 0,
        target: "< 2x in flight",
        pass: kcr.failed === undefined && kcr.hwm < 2 * inFlight,
      },
      {
        name: `${CLIENTS} clients x ${SIZE / MB} MB SET+GET: wall time`,
        anchor: ncr.failed === undefined ? `${ncr.ms} ms` : "failed",
        keepcache: `${kcr.ms} ms`,
        ratio: ncr.failed === undefined ? ncr.ms / kcr.ms : 0,
        target: "info",
        pass: true,
        info: true,
      },
    ];
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
