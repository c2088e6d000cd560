/**
 * Redis Cluster pools (`redis_cluster: true`) against a real cluster of 3 masters + 3 replicas
 * (tools/redis-cluster.ts), with real clients:
 * - redis-benchmark's default tests through the pool answer no error;
 * - MGET/MSET/DEL/EXISTS across slots give what `redis-cli -c` (cluster-aware, direct) gives;
 * - same-slot MULTI/EXEC and EVAL pass, cross-slot ones are refused with a clear error;
 * - `read: replica` reads come from replicas (READONLY on their connections);
 * - a live slot migration (CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE) under a
 *   write load: every write acknowledged, none lost, no error to the clients (MOVED and ASK
 *   followed by the pool).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import type { ClusterControl } from "../../src/proxy/cluster/control.js";
import { keySlot } from "../../src/proxy/cluster/slot.js";
import { freePort } from "../../tools/ports.js";
import { stopAll } from "../../tools/procs.js";
import { RedisCluster } from "../../tools/redis-cluster.js";
import { ioredis, ioredisClients } from "../helpers/ioredis.js";
import { until } from "../helpers/keepcache-run.js";
import { startSetWriters } from "../helpers/set-writers.js";
import { type RunningProxy, startProxy } from "./proxy-harness.js";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function poolYaml(listen: number, seeds: number[], extra = ""): string {
  return `kc:
  listen: 127.0.0.1:${listen}
  redis: true
  redis_cluster: true
  timeout: 5000
${extra}  servers:
${seeds.map((p) => `    - 127.0.0.1:${p}:1`).join("\n")}
`;
}

/** `redis-cli -c` against one node: cluster-aware direct access, the reference. */
async function cli(port: number, ...args: string[]): Promise<string> {
  const r = await run("redis-cli", ["-c", "-p", String(port), ...args], { timeout: 10_000 });
  return r.stdout;
}

describe("redis cluster pool", { timeout: 180_000 }, () => {
  let cluster: RedisCluster;
  let proxy: RunningProxy;
  let port: number;

  before(async () => {
    cluster = await RedisCluster.start();
    port = await freePort();
    proxy = await startProxy(poolYaml(port, [cluster.ports[0]], "  allow_commands: [eval]\n"));
  });
  after(async () => {
    for (const c of ioredisClients) c.disconnect();
    await proxy?.stop();
    await cluster?.stop();
    await stopAll();
  });

  test("redis-benchmark default tests: no error reply", async () => {
    const { stdout, stderr } = await run(
      "redis-benchmark",
      ["-p", String(port), "-n", "2000", "-c", "10", "-P", "4", "-r", "1000", "--csv"],
      { timeout: 120_000 },
    );
    const out = `${stdout}\n${stderr}`;
    assert.doesNotMatch(out, /error|ERR|MOVED|ASK|CROSSSLOT/i, out);
    // Every default test ran and reported a rate.
    for (const t of ["SET", "GET", "INCR", "LPUSH", "LPOP", "SADD", "HSET", "ZADD", "MSET"])
      assert.match(stdout, new RegExp(`"${t}[^"]*","[1-9]`), `${t} missing in:\n${stdout}`);
  });

  test("MGET/MSET/DEL/EXISTS across slots equal redis-cli -c", async () => {
    const c = ioredis(port);
    const keys = Array.from({ length: 40 }, (_, i) => `mk:${i}`);
    assert.ok(new Set(keys.map((k) => keySlot(Buffer.from(k)))).size > 30, "keys span slots");
    const pairs = keys.flatMap((k, i) => [k, `v${i}`]);
    assert.equal(await c.mset(...pairs), "OK");
    const viaProxy = await c.mget(...keys, "mk:none");
    // A node refuses a cross-slot MGET (CROSSSLOT): redis-cli -c reads key by key, following
    // MOVED to each key's node.
    const direct = await cluster.cliFollowing(
      cluster.ports[1],
      [...keys, "mk:none"].map((k) => `GET ${k}\n`).join(""),
    );
    assert.deepEqual(
      viaProxy.map((v) => v ?? ""),
      direct
        .split("\n")
        .slice(0, -1)
        .filter((l) => !l.startsWith("-> Redirected")),
    );
    // And MSET through redis-cli -c (one key per slot), MGET through the pool.
    await cluster.cliFollowing(cluster.ports[2], keys.map((k, i) => `SET ${k} w${i}\n`).join(""));
    assert.deepEqual(
      await c.mget(...keys),
      keys.map((_, i) => `w${i}`),
    );
    assert.equal(await c.exists(...keys.slice(0, 10), "mk:none"), 10);
    assert.equal(await c.del(...keys.slice(0, 20)), 20);
    assert.equal((await cli(cluster.ports[0], "EXISTS", keys[0])).trim(), "0");
    assert.equal(await c.unlink(...keys.slice(20)), 20);
  });

  test("same-slot MULTI/EXEC and EVAL pass; cross-slot ones are refused clearly", async () => {
    const c = ioredis(port);
    const r = await c.multi().set("{u1}a", "1").incr("{u1}b").get("{u1}a").exec();
    assert.deepEqual(r, [
      [null, "OK"],
      [null, 1],
      [null, "1"],
    ]);
    assert.equal(
      await c.eval("return redis.call('GET', KEYS[1])", 1, "{u1}a"),
      "1",
      "same-slot EVAL",
    );
    await assert.rejects(c.eval("return 1", 2, "x1", "x2"), /different servers|slot|hash tag/i);
    const blpop = await c.blpop("{u1}list", 0.1);
    assert.equal(blpop, null);
  });

  test("an array holding large values streams through; an error element in it is no redirect", async () => {
    const c = ioredis(port);
    const big = Buffer.alloc(4 * 1024 * 1024, "L");
    await c.del("{u2}list");
    for (let i = 0; i < 3; i++) await c.rpush("{u2}list", big);
    const got = await c.lrangeBuffer("{u2}list", 0, -1);
    assert.equal(got.length, 3);
    for (const e of got) assert.ok(e.equals(big));
    // A script's array: a large value, then an error element that reads like a redirect. The
    // reply streams from the large value on, so its last bytes may start with that '-': the
    // pool must pass it on as the client's reply, not follow it.
    const script = "return {ARGV[1], redis.error_reply('MOVED 1 127.0.0.1:1'), 'end'}";
    for (let i = 0; i < 5; i++) {
      const r = (await c.callBuffer("EVAL", script, "1", "{u2}list", big)) as unknown[];
      assert.ok((r[0] as Buffer).equals(big));
      assert.match(String(r[1]), /MOVED 1 127\.0\.0\.1:1/);
      assert.equal(String(r[2]), "end");
    }
    await c.del("{u2}list");
  });

  test("status: slots per master; keyless commands reach every master", async () => {
    const control = proxy.proxy.pools_.get("kc")?.control as ClusterControl;
    const st = control.clusterStatus();
    assert.equal(st.known, true);
    assert.equal(st.uncoveredSlots, 0);
    assert.equal(st.shards.length, 3);
    assert.equal(
      st.shards.reduce((n, s) => n + s.slots, 0),
      16384,
    );
    assert.ok(st.shards.every((s) => s.replicas.length === 1));
    const c = ioredis(port);
    await c.mset("ks:a", "1", "ks:b", "2", "ks:c", "3");
    const sizes = await Promise.all(
      cluster.ports.map(async (p) => {
        const role = await cli(p, "ROLE");
        return role.startsWith("master") ? Number((await cli(p, "DBSIZE")).trim()) : 0;
      }),
    );
    assert.equal(
      await c.dbsize(),
      sizes.reduce((a, b) => a + b, 0),
    );
  });

  test("read: replica sends reads to replicas", async () => {
    const p2 = await freePort();
    const rp = await startProxy(poolYaml(p2, [cluster.ports[0]], "  read: replica\n"));
    try {
      const c = ioredis(p2);
      await c.set("rr:key", "v");
      // Replication is asynchronous: the replica has it shortly.
      let got: string | null = null;
      for (let i = 0; i < 50 && got !== "v"; i++) {
        got = await c.get("rr:key");
        if (got !== "v") await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(got, "v");
      const pool = rp.proxy.pools_.get("kc");
      assert.ok(pool);
      // The GET counts land on a replica server, not on the master.
      const infos = await Promise.all(
        cluster.ports.map(async (p) => {
          const s = await cli(p, "INFO", "commandstats");
          const role = await cli(p, "ROLE");
          return { role: role.split("\n")[0], gets: /cmdstat_get:calls=(\d+)/.exec(s)?.[1] };
        }),
      );
      assert.ok(
        infos.some((i) => i.role === "slave" && Number(i.gets ?? 0) > 0),
        JSON.stringify(infos),
      );
    } finally {
      await rp.stop();
    }
  });

  test("live slot migration under a write load: no acknowledged write lost, no error", async () => {
    const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
    ioredisClients.push(c);
    // Keys of one slot, so the whole migration concerns the writes.
    const tag = "{mig}";
    const slot = keySlot(Buffer.from("mig"));
    // Four writers on one client (pipelined), each with keys of its own.
    const writers = startSetWriters([c, c, c, c], (w, i) => `${tag}:${w}:${i % 200}`);
    const { acked, errors } = writers;
    await new Promise((r) => setTimeout(r, 200));
    // The steps of redis-cli --cluster reshard for one slot (cluster-spec.md "Live resharding").
    const { target } = await cluster.moveSlot(slot);
    await new Promise((r) => setTimeout(r, 300));
    await writers.stop();
    assert.deepEqual(errors.slice(0, 5), []);
    assert.ok(acked.size > 0);
    const pool = proxy.proxy.pools_.get("kc");
    assert.ok(pool && pool.counters.cluster_moved + pool.counters.cluster_ask > 0);
    // Every acknowledged write is there, read directly from the slot's new owner.
    const check = new Redis({ port: target, host: "127.0.0.1" });
    ioredisClients.push(check);
    const keys = [...acked.keys()];
    const vals = await Promise.all(keys.map((k) => check.get(k)));
    const lost = keys.filter((k, i) => vals[i] !== acked.get(k));
    assert.deepEqual(lost.slice(0, 5), []);
  });

  test("dedicated connections: a blocking pop follows ASK and MOVED; a transaction gets a clear error", async () => {
    const a = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
    const b = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
    const w = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
    ioredisClients.push(a, b, w);
    const slot = keySlot(Buffer.from("blk"));
    const pool = proxy.proxy.pools_.get("kc");
    assert.ok(pool);
    const c0 = { ...pool.counters };
    let blocked: Promise<[string, string] | null> | undefined;
    // While the slot migrates, a key the source does not have is the target's (-ASK): the pop
    // goes there with ASKING on a dedicated connection, and a push (-ASK too) wakes it.
    const first = await cluster.moveSlot(slot, async () => {
      const popped = a.blpop("{blk}:q1", 10);
      await sleep(100);
      assert.equal(await b.lpush("{blk}:q1", "x1"), 1);
      assert.deepEqual(await popped, ["{blk}:q1", "x1"]);
      // WATCH holds a dedicated connection: its -ASK cannot be followed; the error says why.
      await assert.rejects(
        w.watch("{blk}:w"),
        /keepcache: backend \S+ is migrating slot \d+ to \S+ while this connection holds a dedicated connection/,
      );
      // A pop left blocked on the target through the end of the move.
      blocked = a.blpop("{blk}:q2", 10);
      await sleep(100);
    });
    assert.equal(await b.lpush("{blk}:q2", "x2"), 1);
    assert.deepEqual(await blocked, ["{blk}:q2", "x2"]);
    assert.ok(pool.counters.cluster_ask - c0.cluster_ask >= 2);
    assert.equal(pool.counters.cluster_tx_redirects - c0.cluster_tx_redirects, 1);
    // The slot moves on while a pop blocks on its owner: the node unblocks it with -MOVED
    // (cluster.c clusterRedirectBlockedClientIfNeeded) and the pool pops on the new owner.
    const popped = a.blpop("{blk}:q3", 15);
    await sleep(100);
    const moved0 = pool.counters.cluster_moved;
    const second = await cluster.moveSlot(slot);
    assert.equal(second.source, first.target);
    await until(() => pool.counters.cluster_moved > moved0, "the blocked pop redirected", 5000);
    assert.equal(await b.lpush("{blk}:q3", "x3"), 1);
    assert.deepEqual(await popped, ["{blk}:q3", "x3"]);
    const direct = new Redis({ port: second.target, host: "127.0.0.1" });
    ioredisClients.push(direct);
    assert.equal(await direct.exists("{blk}:q3"), 0, "popped on the new owner");
    // A new transaction on the same client runs on the slot's owner.
    await w.unwatch();
    await w.watch("{blk}:w");
    const r = await w.multi().set("{blk}:w", "1").get("{blk}:w").exec();
    assert.deepEqual(r, [
      [null, "OK"],
      [null, "1"],
    ]);
  });

  test("MULTI/EXEC whose slot migrates (ASK) or moved behind the pool's back (MOVED) runs on the owner", async () => {
    const p2 = await freePort();
    // No timed refresh: the pool learns of the move only from the redirects.
    const rp = await startProxy(
      poolYaml(p2, [cluster.ports[0]], "  cluster_refresh_interval: 600000\n"),
    );
    try {
      const c = ioredis(p2);
      assert.equal(await c.set("{txm}a", "0"), "OK");
      const slot = keySlot(Buffer.from("txm"));
      const pool = rp.proxy.pools_.get("kc");
      assert.ok(pool);
      const c0 = { ...pool.counters };
      const { target } = await cluster.moveSlot(slot, async () => {
        // A key the migrating source does not have: -ASK while queued, EXECABORT; the pool
        // sends ASKING, MULTI ... EXEC to the importing node.
        const r = await c.multi().set("{txm}new", "n").get("{txm}new").exec();
        assert.deepEqual(r, [
          [null, "OK"],
          [null, "n"],
        ]);
      });
      assert.ok(pool.counters.cluster_ask > c0.cluster_ask);
      // Moved now, and the pool's table still names the old owner: -MOVED while queued.
      const r = await c.multi().set("{txm}a", "1").get("{txm}a").exec();
      assert.deepEqual(r, [
        [null, "OK"],
        [null, "1"],
      ]);
      assert.ok(pool.counters.cluster_moved > c0.cluster_moved);
      const direct = new Redis({ port: target, host: "127.0.0.1" });
      ioredisClients.push(direct);
      assert.deepEqual(await direct.mget("{txm}a", "{txm}new"), ["1", "n"]);
    } finally {
      await rp.stop();
    }
  });
});
