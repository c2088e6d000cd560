/**
 * Dedicated connections in a Redis replica set (src/proxy/dedicated.ts): a blocking pop and a
 * subscriber follow the set's write target, and a failover closes those on the demoted member
 * with an error to their clients (never a hang); the next ones go to the new master.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { Redis } from "ioredis";
import { RedisLab } from "../../bench/failover/lab.js";
import { stopAll } from "../../tools/procs.js";
import { ioredis, ioredisClients } from "../helpers/ioredis.js";
import { until } from "../helpers/keepcache-run.js";

async function blocked(lab: RedisLab, i: number, cmd: string): Promise<number> {
  const list = await lab.direct(lab.ports[i], "CLIENT", "LIST");
  return list.split("\n").filter((l) => l.includes(` cmd=${cmd} `)).length;
}

describe("replica set: dedicated connections follow the write target", { timeout: 60_000 }, () => {
  let lab: RedisLab | undefined;
  after(async () => {
    for (const c of ioredisClients) c.disconnect();
    await lab?.stop();
    await stopAll();
  });

  const io = (port: number): Redis =>
    ioredis(port, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: false });

  test("BLPOP and a subscriber on the master; a failover fails them with the reason", async () => {
    lab = await RedisLab.start({ replicas: 1, mode: "builtin", read: "any" });
    const l = lab;
    const waiter = io(l.proxyPort);
    const popped = waiter.blpop("rs:q", 0).catch((e: Error) => e);
    const sub = io(l.proxyPort);
    const closed = new Promise<void>((r) => sub.once("end", () => r()));
    await sub.subscribe("rs:ch");
    await until(async () => (await blocked(l, 0, "blpop")) === 1, "BLPOP on the master");
    assert.equal(await blocked(l, 1, "blpop"), 0);
    assert.equal(await io(l.proxyPort).publish("rs:ch", "hi"), 1);

    assert.match(await l.failoverTo(1), /promoted/);
    const err = await popped;
    assert.ok(err instanceof Error, "BLPOP must fail, not hang");
    assert.match(err.message, /no longer/);
    await closed; // the subscriber is told and closed
    assert.equal(await blocked(l, 0, "blpop"), 0);

    // The next blocking pop waits on the new master and gets its value.
    const again = io(l.proxyPort).blpop("rs:q2", 5);
    await until(async () => (await blocked(l, 1, "blpop")) === 1, "BLPOP on the new master");
    await io(l.proxyPort).rpush("rs:q2", "v");
    assert.deepEqual(await again, ["rs:q2", "v"]);
  });
});
