/**
 * Redis replica set reads balanced by member weight (seed 001's wrr over master and slaves),
 * and a manual failover through the admin action handler (POST /api/v1/pools/{pool}/failover)
 * that loses no acknowledged write.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { lostWrites, RedisLab, RespConn, sleep, writeLoad } from "../../bench/failover/lab.js";
import { poolStatus, ServerTracks } from "../../src/admin/sources/proxy-status.js";
import { poolActionHandlers } from "../../src/failover/admin.js";
import { stopAll } from "../../tools/procs.js";

async function commandsProcessed(lab: RedisLab, i: number): Promise<number> {
  const info = await lab.direct(lab.ports[i], "INFO", "commandstats");
  const m = /cmdstat_get:calls=(\d+)/.exec(info);
  return m ? Number(m[1]) : 0;
}

describe("replica set reads and manual failover (redis)", { timeout: 60_000 }, () => {
  let lab: RedisLab | undefined;
  after(async () => {
    await lab?.stop();
    await stopAll();
  });

  test("reads follow member weights; a manual failover promotes without losing writes", async () => {
    lab = await RedisLab.start({ replicas: 2, mode: "builtin", read: "any", weights: [1, 2, 3] });
    await sleep(300);
    const c = new RespConn(lab.proxyPort);
    assert.equal(await c.command(["SET", "k", "v"]), "+OK\r\n");
    await sleep(100); // replicated
    const before = await Promise.all([0, 1, 2].map((i) => commandsProcessed(lab as RedisLab, i)));
    for (let i = 0; i < 600; i++) await c.command(["GET", "k"]);
    const after_ = await Promise.all([0, 1, 2].map((i) => commandsProcessed(lab as RedisLab, i)));
    const got = after_.map((a, i) => a - before[i]);
    assert.deepEqual(got, [100, 200, 300], `GETs per member ${got}`);
    c.close();

    const status = poolStatus([...lab.proxy.pools()][0], new ServerTracks(), {});
    assert.equal(status.shards[0].members[0].role, "master");

    const load = writeLoad(lab.proxyPort, 2);
    await sleep(200);
    const [handler] = poolActionHandlers(lab.proxy);
    const res = await handler.handle({
      kind: "pool",
      pool: "cache",
      op: "failover",
      to: `127.0.0.1:${lab.ports[2]}`,
    });
    assert.match(res.message, /promoted 127\.0\.0\.1:\d+/);
    await sleep(300);
    await load.stop();
    assert.equal(load.errors.length, 0, JSON.stringify(load.errors.slice(0, 3)));
    assert.equal(await lab.masterIndex(), 2);
    // Every acknowledged write, before and after the switch, is on the new master.
    await sleep(200);
    assert.equal(await lostWrites(lab.ports[2], [...load.acked.keys()]), 0);
    const after2 = poolStatus([...lab.proxy.pools()][0], new ServerTracks(), {});
    assert.equal(after2.shards[0].members[2].role, "master");
    assert.equal(after2.failovers, 1);
  });
});
