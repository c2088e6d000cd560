/**
 * `failover: sentinel`: three real redis-sentinel processes (quorum 2,
 * down-after-milliseconds 1000) watch a master and two replicas; kill -9 the master under a
 * write load through the proxy. The proxy must route writes to the new master within 1 s of
 * +switch-master (it is subscribed on every sentinel and also polls).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { firstAckAfter, RedisLab, RespConn, sleep, writeLoad } from "../../bench/failover/lab.js";
import { stopAll } from "../../tools/procs.js";

describe("replica set following redis-sentinel", { timeout: 60_000 }, () => {
  let lab: RedisLab | undefined;
  after(async () => {
    await lab?.stop();
    await stopAll();
  });

  test("the proxy follows +switch-master within 1 s", async () => {
    lab = await RedisLab.start({ replicas: 2, mode: "sentinel", sentinelDownAfter: 1000 });
    // Our own subscriber, to timestamp +switch-master as a client sees it.
    const sub = new RespConn(lab.sentinelPorts[0]);
    let switchAt = 0;
    await sub.command(["SUBSCRIBE", "+switch-master"]);
    const sock = (sub as unknown as { sock: import("node:net").Socket }).sock;
    sock.on("data", (d: Buffer) => {
      if (switchAt === 0 && d.toString().includes("+switch-master")) switchAt = Date.now();
    });
    await sleep(1500); // sentinels discover the replicas and each other
    const load = writeLoad(lab.proxyPort, 2);
    await sleep(300);
    const killedAt = lab.kill(0);
    const deadline = Date.now() + 30_000;
    while (switchAt === 0 && Date.now() < deadline) await sleep(20);
    assert.ok(switchAt > 0, "+switch-master was published");
    let firstOk = 0;
    const until = switchAt + 5000;
    while (firstOk === 0 && Date.now() < until) {
      firstOk = firstAckAfter(load, killedAt);
      await sleep(10);
    }
    await load.stop();
    sub.close();
    assert.ok(firstOk > 0, "a write succeeded after the switch");
    assert.ok(
      firstOk - switchAt <= 1000,
      `first write ${firstOk - switchAt} ms after +switch-master (kill → switch ${switchAt - killedAt} ms)`,
    );
  });
});
