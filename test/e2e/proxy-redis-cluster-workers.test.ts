/**
 * A Redis Cluster pool with `workers: 2` (compiled CLI) against a real 3 + 3 cluster
 * (tools/redis-cluster.ts, cluster-node-timeout 1000 ms): the primary keeps the slot map and
 * pushes it to the worker, so
 * - client connections held by both processes (the kernel's view, `ss -p`) get right answers,
 *   across slots too (MSET/MGET split by slot in each process);
 * - a live migration of one slot under writes from both processes: no error, nothing
 *   acknowledged lost, and -MOVED/-ASK followed (counted over both processes on /metrics);
 * - the admin status (/api/v1/status) shows the map: every node with its role and health,
 *   slot ranges per master, the slot while it migrates, refreshes and redirects;
 * - kill -9 of a master: clients of both processes write again once the cluster promotes the
 *   replica (within 1 s of the promotion), and their acknowledged writes are on it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import type { PoolStatus, StatusDocument } from "../../src/admin/status.js";
import { keySlot } from "../../src/proxy/cluster/slot.js";
import type { ClusterStatus } from "../../src/proxy/cluster/status.js";
import { freePorts, waitForPort } from "../../tools/ports.js";
import type { Proc } from "../../tools/procs.js";
import { stopAll } from "../../tools/procs.js";
import { RedisCluster } from "../../tools/redis-cluster.js";
import { startRun, suiteDir, until } from "../helpers/keepcache-run.js";
import { startSetWriters } from "../helpers/set-writers.js";
import { parsePrometheusText, sampleValue } from "../unit/admin/prom-text.js";
import { acceptedBy, openSpread, stopProxy, workerPids } from "./proxy-workers-helpers.js";

const NODE_TIMEOUT = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = suiteDir("kc-rcw-");

/** Keys of slots served by the master on `port`, `n` of them. */
async function keysOf(cluster: RedisCluster, port: number, prefix: string, n: number) {
  const keys: string[] = [];
  const owner = new Map<number, number>();
  for (let i = 0; keys.length < n && i < 100_000; i++) {
    const k = `${prefix}${i}`;
    const s = keySlot(Buffer.from(k));
    if (!owner.has(s)) owner.set(s, (await cluster.masterOf(s)).port);
    if (owner.get(s) === port) keys.push(k);
  }
  return keys;
}

async function clusterStatus(admin: number): Promise<ClusterStatus> {
  const r = await fetch(`http://127.0.0.1:${admin}/api/v1/status`, {
    signal: AbortSignal.timeout(3000),
  });
  const st = (await r.json()) as StatusDocument;
  const pool = st.pools.find((p): p is PoolStatus => "cluster" in p && p.name === "kc");
  assert.ok(pool?.cluster, JSON.stringify(st.pools));
  return pool.cluster;
}

describe("redis cluster pool with workers: 2", { timeout: 180_000 }, () => {
  let cluster: RedisCluster;
  let proc: Proc;
  let listen: number;
  let admin: number;
  let clients: Redis[] = [];

  before(async () => {
    cluster = await RedisCluster.start({ nodeTimeoutMs: NODE_TIMEOUT });
    await cluster.waitReplicasSynced(20_000);
    const [l, stats, a] = await freePorts(3);
    listen = l;
    admin = a;
    const yaml = [
      "workers: 2",
      "admin:",
      `  listen: 127.0.0.1:${admin}`,
      "pools:",
      "  kc:",
      `    listen: 127.0.0.1:${listen}`,
      "    redis: true",
      "    redis_cluster: true",
      "    timeout: 2000",
      "    cluster_failover_wait: 4000",
      "    cluster_refresh_interval: 500",
      "    servers:",
      ...cluster.ports.map((p) => `      - 127.0.0.1:${p}:1`),
      "",
    ].join("\n");
    proc = await startRun(join(dir, "kc.yml"), yaml, { listen, stats });
    await waitForPort(admin, "127.0.0.1", 8000);
    await until(() => workerPids(proc).length > 0, "the worker serving the cluster pool", 8000);
    // Every client answered a PING, so each is accepted by one process or the other.
    clients = await openSpread(listen, 12, async () => {
      const c = new Redis({ port: listen, host: "127.0.0.1", maxRetriesPerRequest: 0 });
      c.on("error", () => {});
      await c.ping();
      return c;
    });
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    if (proc !== undefined) await stopProxy(proc);
    await cluster?.stop();
    await stopAll();
  });

  test("both processes answer, across slots too", async () => {
    const held = acceptedBy(listen);
    assert.equal(held.size, 2, `accepted by ${[...held]}`);
    assert.ok(held.has(proc.child.pid ?? -1), "the primary serves too");
    await Promise.all(
      clients.map(async (c, i) => {
        const keys = Array.from({ length: 8 }, (_, j) => `w${i}:${j}`);
        assert.equal(await c.mset(...keys.flatMap((k) => [k, `${k}!`])), "OK");
        assert.deepEqual(
          await c.mget(...keys),
          keys.map((k) => `${k}!`),
        );
        assert.equal(await c.set(`one${i}`, "x"), "OK");
        assert.equal(await c.get(`one${i}`), "x");
      }),
    );
  });

  test("admin status: the map's nodes, roles, health, slot ranges and refreshes", async () => {
    const c = await clusterStatus(admin);
    assert.equal(c.known, true);
    assert.ok(c.refreshes >= 1 && Date.now() - c.refreshedAt < 5000, JSON.stringify(c));
    assert.equal(c.nodes.length, 6);
    assert.deepEqual(
      c.nodes.map((n) => n.address).sort(),
      cluster.ports.map((p) => `127.0.0.1:${p}`).sort(),
    );
    assert.ok(c.nodes.every((n) => n.health === "up"));
    const masters = c.nodes.filter((n) => n.role === "master").map((n) => n.address);
    assert.equal(masters.length, 3);
    for (const n of c.nodes.filter((x) => x.role === "replica"))
      assert.ok(n.master !== undefined && masters.includes(n.master));
    // Ranges cover every slot once, and agree with the counts and with the cluster.
    let total = 0;
    for (const sh of c.shards) {
      const n = sh.ranges.reduce((a, [f, l]) => a + l - f + 1, 0);
      assert.equal(n, sh.slots);
      total += n;
      const port = Number(sh.master.split(":")[1]);
      assert.equal((await cluster.masterOf(sh.ranges[0][0])).port, port);
    }
    assert.equal(total, 16384);
    assert.equal(c.uncoveredSlots, 0);
  });

  test("a slot migrates under writes from both processes: no error, nothing lost", async () => {
    const tag = "{wmig}";
    const slot = keySlot(Buffer.from("wmig"));
    const writers = startSetWriters(clients, (w, i) => `${tag}:${w}:${i % 100}`);
    const { acked, errors } = writers;
    await sleep(200);
    // While the slot moves, the status shows it, with both ends.
    let seen = "";
    const { target } = await cluster.moveSlot(slot, async (from, to) => {
      await until(async () => {
        const m = (await clusterStatus(admin)).migrations.find((x) => x.slot === slot);
        seen = m === undefined ? "" : `${m.from} ${m.to}`;
        return seen !== "";
      }, "the migrating slot in the admin status");
      assert.equal(seen, `127.0.0.1:${from} 127.0.0.1:${to}`);
    });
    await sleep(300);
    await writers.stop();
    assert.deepEqual(errors.slice(0, 5), []);
    assert.ok(acked.size > 0);
    const check = new Redis({ port: target, host: "127.0.0.1" });
    const keys = [...acked.keys()];
    const vals = await Promise.all(keys.map((k) => check.get(k)));
    check.disconnect();
    assert.deepEqual(keys.filter((k, i) => vals[i] !== acked.get(k)).slice(0, 5), []);
    // Redirects followed in both processes, summed on /metrics (workers report every second).
    let redirects = 0;
    await until(async () => {
      const fams = parsePrometheusText(
        await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text(),
      );
      const one = (n: string) =>
        sampleValue(fams, `keepcache_proxy_pool_${n}_total`, { pool: "kc" }) ?? 0;
      redirects = one("cluster_moved") + one("cluster_ask");
      return redirects >= 2;
    }, "redirects counted on /metrics");
    // The admin status: the slot on its new master, nothing moving, the redirects counted.
    let last: ClusterStatus | undefined;
    const settled = until(async () => {
      const c = await clusterStatus(admin);
      last = c;
      const owner = c.shards.find((sh) => sh.ranges.some(([f, l]) => slot >= f && slot <= l));
      return (
        owner?.master === `127.0.0.1:${target}` &&
        c.migrations.length === 0 &&
        c.moved + c.ask >= redirects
      );
    }, "the moved slot on its new master in the admin status");
    await settled.catch((err: Error) => {
      const { nodes: _n, ...rest } = last ?? ({} as ClusterStatus);
      throw new Error(`${err.message}: ${JSON.stringify(rest)}`);
    });
  });

  test("kill -9 of a master: both processes write again within 1 s of the promotion", async () => {
    const slot = keySlot(Buffer.from("fo:0"));
    const victimPort = (await cluster.masterOf(slot)).port;
    const [replicaPort] = await cluster.replicasOf(victimPort);
    assert.ok(replicaPort !== undefined);
    // Each client its own keys: what two clients write to one key concurrently may be applied
    // in another order than their acknowledgements arrive here.
    const keys = await keysOf(cluster, victimPort, "fo:", 4 * clients.length);
    const replica = new Redis({ port: replicaPort, host: "127.0.0.1" });
    replica.on("error", () => {});
    // Per client, the time of its first successful write after its own first error (its
    // writes are sequential, so that one went to the promoted replica).
    const firstOk = clients.map(() => 0);
    const failed = clients.map(() => false);
    const acked = new Map<string, string>();
    const errors = new Set<string>();
    let stop = false;
    const writer = async (c: Redis, w: number) => {
      for (let i = 0; !stop && i < 200_000; i++) {
        const k = keys[w * 4 + (i % 4)];
        const v = `${w}-${i}`;
        try {
          await c.set(k, v);
          if (failed[w] && firstOk[w] === 0) firstOk[w] = Date.now();
          if (firstOk[w] > 0) acked.set(k, v);
        } catch (err) {
          failed[w] = true;
          errors.add((err as Error).message.replace(/\d+/g, "N"));
          await sleep(10);
        }
      }
    };
    const writers = clients.map(writer);
    await sleep(300);
    const killedAt = Date.now();
    await cluster.kill(cluster.ports.indexOf(victimPort));
    let promotedAt = 0;
    while (promotedAt === 0 && Date.now() - killedAt < 15_000) {
      const role = (await replica.call("ROLE")) as string[];
      if (role[0] === "master") promotedAt = Date.now();
      else await sleep(5);
    }
    while (firstOk.some((t) => t === 0) && Date.now() - killedAt < 15_000) await sleep(20);
    await sleep(300);
    stop = true;
    await Promise.all(writers);
    replica.disconnect();
    assert.ok(promotedAt > 0, "the cluster promoted no replica");
    assert.ok(errors.size > 0, "no client saw the master gone");
    assert.ok(
      firstOk.every((t) => t > 0),
      `clients without a write after the kill: ${firstOk.filter((t) => t === 0).length}; errors ${[...errors]}`,
    );
    const last = Math.max(...firstOk);
    console.log(
      `workers failover: promoted ${promotedAt - killedAt} ms after kill -9, every client wrote ${last - promotedAt} ms after the promotion`,
    );
    assert.ok(
      last - promotedAt <= 1000,
      `last first write ${last - promotedAt} ms after promotion`,
    );
    for (const e of errors) assert.match(e, /keepcache: backend N\.N\.N\.N:N \w/, e);
    const check = new Redis({ port: replicaPort, host: "127.0.0.1" });
    const ks = [...acked.keys()];
    const vals = await Promise.all(ks.map((k) => check.get(k)));
    check.disconnect();
    assert.deepEqual(ks.filter((k, i) => vals[i] !== acked.get(k)).slice(0, 5), []);
  });
});
