/**
 * Builtin failover of a Redis replica set through the proxy, against real
 * redis-server processes: kill -9 the master under a write load, measure kill → first
 * successful write (target <= 2 s with defaults), check the old master returns as a replica
 * and never takes a write, and that no acknowledged write made after the switch is lost.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { firstAckAfter, lostWrites, RedisLab, sleep, writeLoad } from "../../bench/failover/lab.js";
import { stopAll } from "../../tools/procs.js";

describe("replica set builtin failover (redis)", { timeout: 60_000 }, () => {
  let lab: RedisLab | undefined;
  after(async () => {
    await lab?.stop();
    await stopAll();
  });

  test("kill -9 the master under writes: a replica is promoted within 2 s, the old master rejoins as a replica", async () => {
    lab = await RedisLab.start({ replicas: 2, mode: "builtin" });
    const load = writeLoad(lab.proxyPort, 4);
    await sleep(500);
    assert.ok(load.acked.size > 0, "writes flow before the kill");
    const killedAt = lab.kill(0);
    const deadline = Date.now() + 10_000;
    let firstOk = 0;
    while (Date.now() < deadline && firstOk === 0) {
      firstOk = firstAckAfter(load, killedAt);
      await sleep(20);
    }
    await sleep(300);
    await load.stop();
    assert.ok(firstOk > 0, "a write succeeded after the kill");
    const took = firstOk - killedAt;
    assert.ok(took <= 2000, `kill → first successful write took ${took} ms`);
    const m = await lab.masterIndex();
    assert.ok(m === 1 || m === 2, `a replica was promoted (master index ${m})`);
    // Every write acknowledged after the switch is on the new master.
    const afterSwitch = [...load.acked].filter(([, t]) => t >= firstOk).map(([k]) => k);
    assert.equal(await lostWrites(lab.ports[m], afterSwitch), 0);

    // The old master comes back (empty, as a master): the proxy repoints it, and it never
    // gets a write while it is fenced.
    await lab.restart(0);
    const until = Date.now() + 10_000;
    let role = "";
    while (Date.now() < until) {
      role = await lab.direct(lab.ports[0], "ROLE").catch(() => "");
      if (
        role.includes("slave") &&
        role.includes(String(lab.ports[m])) &&
        role.includes("connected")
      )
        break;
      await sleep(100);
    }
    assert.match(role, /slave/);
    assert.ok(
      role.includes(String(lab.ports[m])),
      `old master follows the new one: ${JSON.stringify(role)}`,
    );
    // Writes through the proxy still land on the new master.
    const w = writeLoad(lab.proxyPort, 1, "post");
    await sleep(300);
    await w.stop();
    assert.equal(w.errors.length, 0, JSON.stringify(w.errors.slice(0, 3)));
    assert.equal(await lostWrites(lab.ports[m], [...w.acked.keys()]), 0);
  });
});
