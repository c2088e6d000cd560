/**
 * A Redis Cluster pool follows the cluster's own failover (a real 3 + 3 cluster with
 * cluster-node-timeout 1000 ms, tools/redis-cluster.ts): a master is killed with SIGKILL while
 * clients write to its slots through the pool, retrying failed writes. The first write that
 * succeeds comes within 1 s of the cluster's own promotion of the replica (so within
 * cluster-node-timeout + the election delay + 1 s of the kill), every write acknowledged after
 * it is on the promoted replica, a read held meanwhile (cluster_failover_wait) is answered, and
 * the errors clients saw meanwhile name the backend and the reason.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { keySlot } from "../../src/proxy/cluster/slot.js";
import { freePort } from "../../tools/ports.js";
import { stopAll } from "../../tools/procs.js";
import { RedisCluster } from "../../tools/redis-cluster.js";
import { ioredisClients } from "../helpers/ioredis.js";
import { type RunningProxy, startProxy } from "./proxy-harness.js";

const NODE_TIMEOUT = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("redis cluster pool: master killed", { timeout: 120_000 }, () => {
  let cluster: RedisCluster;
  let proxy: RunningProxy;
  let port: number;

  before(async () => {
    cluster = await RedisCluster.start({ nodeTimeoutMs: NODE_TIMEOUT });
    await cluster.waitReplicasSynced(20_000);
    port = await freePort();
    proxy = await startProxy(`kc:
  listen: 127.0.0.1:${port}
  redis: true
  redis_cluster: true
  timeout: 2000
  cluster_failover_wait: 4000
  servers:
${cluster.ports.map((p) => `    - 127.0.0.1:${p}:1`).join("\n")}
`);
  });
  after(async () => {
    for (const c of ioredisClients) c.disconnect();
    await proxy?.stop();
    await cluster?.stop();
    await stopAll();
  });

  test("first write within 1 s of the promotion; nothing acknowledged after it lost", async () => {
    const direct = new Redis({ port: cluster.ports[0], host: "127.0.0.1" });
    ioredisClients.push(direct);
    direct.on("error", () => {});
    const slots = (await direct.call("CLUSTER", "SLOTS")) as [number, number, [string, number]][];
    const victimPort = slots[0][2][1];
    const victimSlots = slots.filter((r) => r[2][1] === victimPort);
    const owned = (k: string) => {
      const s = keySlot(Buffer.from(k));
      return victimSlots.some(([a, b]) => s >= a && s <= b);
    };
    const keys: string[] = [];
    for (let i = 0; keys.length < 50; i++) if (owned(`fo:${i}`)) keys.push(`fo:${i}`);
    const victim = cluster.ports.indexOf(victimPort);
    assert.ok(victim >= 0);
    // The victim's replica, watched directly: when the cluster itself promotes it.
    const replicaPort = ((await direct.call("CLUSTER", "SHARDS")) as unknown[][]).flatMap((sh) => {
      const nodes = sh[sh.indexOf("nodes") + 1] as unknown[][];
      const ports = nodes.map((n) => Number(n[n.indexOf("port") + 1]));
      return ports.includes(victimPort) ? ports.filter((p) => p !== victimPort) : [];
    })[0];
    const replica = new Redis({ port: replicaPort, host: "127.0.0.1" });
    ioredisClients.push(replica);
    let promotedAt = 0;

    const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
    ioredisClients.push(c);
    c.on("error", () => {});
    for (const k of keys) await c.set(k, "before");

    let killedAt = 0;
    let firstOkAt = 0;
    const acked = new Map<string, string>();
    const errors = new Set<string>();
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop && i < 200_000; i++) {
        const k = keys[(w * 7 + i) % keys.length];
        const v = `${w}-${i}`;
        try {
          await c.set(k, v);
          // The first success after a failure: a write answered just before the kill is not one.
          if (errors.size > 0 && firstOkAt === 0) firstOkAt = Date.now();
          if (firstOkAt > 0) acked.set(k, v);
        } catch (err) {
          errors.add((err as Error).message.replace(/\d+/g, "N"));
          await sleep(10);
        }
      }
    };
    const writers = [0, 1, 2].map(writer);
    await sleep(300);
    killedAt = Date.now();
    await cluster.procs[victim]?.stop("SIGKILL");
    cluster.procs[victim] = undefined;
    // A read held while the slot has no reachable master is answered once one is promoted.
    const heldRead = c.get(keys[0]).catch((err: Error) => err.message);
    while (promotedAt === 0 && Date.now() - killedAt < 15_000) {
      const role = (await replica.call("ROLE")) as string[];
      if (role[0] === "master") promotedAt = Date.now();
      else await sleep(5);
    }
    while (firstOkAt === 0 && Date.now() - killedAt < 15_000) await sleep(20);
    await sleep(500);
    stop = true;
    await Promise.all(writers);
    const took = firstOkAt - killedAt;
    console.log(
      `failover: promoted ${promotedAt - killedAt} ms, first write through the pool ${took} ms after kill -9`,
    );
    assert.ok(firstOkAt > 0, `no write succeeded after the kill; errors: ${[...errors]}`);
    // The pool's part: the first write lands within 1 s of the cluster's own promotion. The
    // cluster itself promotes no sooner than cluster-node-timeout + 500 ms + a random 0-500 ms
    // (cluster-spec.md "Replica election and promotion": the election delay), so "1 s after
    // cluster-node-timeout" is the cluster's bound plus the election delay.
    assert.ok(promotedAt > 0, "the cluster promoted no replica");
    assert.ok(
      firstOkAt - promotedAt <= 1000,
      `first successful write ${took} ms after the kill, ${firstOkAt - promotedAt} ms after the promotion`,
    );
    assert.ok(
      took <= NODE_TIMEOUT + 1000 + 1000,
      `first successful write ${took} ms after the kill`,
    );
    const held = await heldRead;
    assert.ok(held !== null && !held.startsWith("keepcache"), held ?? "null");
    // Errors meanwhile are clear: they name the backend and the reason.
    for (const e of errors) assert.match(e, /keepcache: backend N\.N\.N\.N:N \w/, e);

    await cluster.waitConverged(10_000);
    const after = new Redis({ port, host: "127.0.0.1" });
    ioredisClients.push(after);
    const ks = [...acked.keys()];
    const vals = await after.mget(...ks);
    const lost = ks.filter((k, i) => vals[i] !== acked.get(k));
    assert.deepEqual(lost.slice(0, 5), []);
    const pool = proxy.proxy.pools_.get("kc");
    assert.ok(pool && pool.counters.cluster_map_refreshes > 1);
  });
});
