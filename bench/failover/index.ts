/**
 * `npm run bench -- failover`: 10 kill -9 of a Redis master under a write
 * load through the keepcache proxy, in each mode — builtin failover (defaults: down_after
 * 1000 ms) and following 3 real redis-sentinels (quorum 2, down-after-milliseconds 1000) —
 * each on a fresh master + 2 replicas. Per kill: time from the kill to the first acknowledged
 * write, error replies the clients saw, and acknowledged writes missing on the new master.
 * Anchor: Sentinel with its default down-after-milliseconds 30000 (reference.md: the new
 * master appears after about 31-35 s); that default is not re-measured here (30 s per kill).
 */
import { stopAll } from "../../tools/procs.js";
import type { Row } from "../lib/table.js";
import { firstAckAfter, lostWrites, RedisLab, sleep, writeLoad } from "./lab.js";

const KILLS = 10;
const SENTINEL_DEFAULT_MS = 30_000;

interface Kill {
  failoverMs: number;
  errors: number;
  lost: number;
  acked: number;
}

async function once(mode: "builtin" | "sentinel"): Promise<Kill> {
  const lab = await RedisLab.start({ replicas: 2, mode, sentinelDownAfter: 1000 });
  try {
    if (mode === "sentinel") await sleep(1500); // sentinels find the replicas and each other
    const load = writeLoad(lab.proxyPort, 4);
    await sleep(500);
    const killedAt = lab.kill(0);
    const deadline = killedAt + 20_000;
    let firstOk = 0;
    while (firstOk === 0 && Date.now() < deadline) {
      firstOk = firstAckAfter(load, killedAt);
      await sleep(10);
    }
    await sleep(500);
    await load.stop();
    const m = await lab.masterIndex();
    const keys = [...load.acked.keys()];
    const lost = m > 0 ? await lostWrites(lab.ports[m], keys) : keys.length;
    return {
      failoverMs: firstOk === 0 ? Number.POSITIVE_INFINITY : firstOk - killedAt,
      errors: load.errors.length,
      lost,
      acked: keys.length,
    };
  } finally {
    await lab.stop();
  }
}

function q(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function rowsFor(mode: string, kills: Kill[], target: number): Row[] {
  const t = kills.map((k) => k.failoverMs).sort((a, b) => a - b);
  const p50 = q(t, 0.5);
  const errors = kills.map((k) => k.errors);
  const lost = kills.map((k) => k.lost);
  const acked = kills.reduce((s, k) => s + k.acked, 0);
  const anchor = `sentinel default >= ${SENTINEL_DEFAULT_MS} ms (not re-measured)`;
  return [
    {
      name: `${mode}: kill -9 → first acked write (${kills.length} kills)`,
      anchor,
      keepcache: `min ${t[0]} / p50 ${p50} / max ${t[t.length - 1]} ms`,
      ratio: SENTINEL_DEFAULT_MS / p50,
      target: `max <= ${target} ms`,
      pass: t[t.length - 1] <= target,
    },
    {
      name: `${mode}: error replies clients saw per kill (4 writers)`,
      anchor: "-",
      keepcache: `min ${Math.min(...errors)} / max ${Math.max(...errors)} (total ${errors.reduce((a, b) => a + b, 0)})`,
      ratio: 1,
      target: "report",
      pass: true,
    },
    {
      name: `${mode}: acknowledged writes lost per kill`,
      anchor: "-",
      keepcache: `min ${Math.min(...lost)} / max ${Math.max(...lost)} (total ${lost.reduce((a, b) => a + b, 0)} of ${acked})`,
      ratio: 1,
      target: "report (async replication)",
      pass: true,
    },
  ];
}

export async function run(): Promise<Row[]> {
  const builtin: Kill[] = [];
  for (let i = 0; i < KILLS; i++) builtin.push(await once("builtin"));
  const sentinel: Kill[] = [];
  for (let i = 0; i < KILLS; i++) sentinel.push(await once("sentinel"));
  await stopAll();
  return [
    ...rowsFor("builtin", builtin, 2000),
    ...rowsFor("sentinel (down-after 1000)", sentinel, 5000),
  ];
}
