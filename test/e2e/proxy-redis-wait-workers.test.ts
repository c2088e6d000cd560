/**
 * WAIT through the proxy counts the client's own writes (a real master and a real replica),
 * without blocking the shared connection; and a pool run by `workers: 2` keeps dedicated
 * connections working in every process (BLPOP 0, SUBSCRIBE, a WATCH/EXEC race).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "redis";
import { freePorts } from "../../tools/ports.js";
import { freeze, type Proc, startRedis } from "../../tools/procs.js";
import { ioredis as io, ioredisClients } from "../helpers/ioredis.js";
import { startRun, suiteDir, until } from "../helpers/keepcache-run.js";

let replica: Proc;
const port = { master: 0, replica: 0, single: 0 };
const dir = suiteDir("kc-wait-", () => {
  if (replica?.child.exitCode === null) replica.child.kill("SIGCONT");
});

before(async () => {
  const [stats, ...ports] = await freePorts(4);
  [port.master, port.replica, port.single] = ports;
  await startRedis(port.master);
  replica = await startRedis(port.replica, ["--replicaof", "127.0.0.1", String(port.master)]);
  await startRun(
    join(dir, "keepcache.yml"),
    `workers: 2
pools:
  single:
    listen: 127.0.0.1:${port.single}
    redis: true
    timeout: 400
    servers:
      - 127.0.0.1:${port.master}:1
`,
    { listen: port.single, stats },
  );
  const m = io(port.master);
  await until(
    async () => /slave0:.*state=online/.test(await m.info("replication")),
    "the master to list its replica online",
    10_000,
  );
});

after(() => {
  for (const c of ioredisClients) c.disconnect();
});

describe("WAIT", { timeout: 60_000 }, () => {
  for (const client of ["ioredis", "node-redis RESP2"] as const) {
    test(`${client}: counts the client's writes, and WAIT n 0 blocks only its own client`, async () => {
      await waitCase(client);
    });
  }
});

/** A client's calls as ioredis or node-redis (RESP2: no HELLO before its requests) make them. */
async function waitClient(kind: "ioredis" | "node-redis RESP2") {
  if (kind === "ioredis") {
    const c = io(port.single);
    return { call: (...a: string[]) => c.call(a[0], ...a.slice(1)), close: async () => {} };
  }
  const c = createClient({
    RESP: 2,
    socket: { host: "127.0.0.1", port: port.single, reconnectStrategy: false },
  });
  c.on("error", () => {});
  await c.connect();
  return { call: (...a: string[]) => c.sendCommand(a), close: () => c.close() };
}

async function waitCase(kind: "ioredis" | "node-redis RESP2"): Promise<void> {
  {
    const w = await waitClient(kind);
    const c = { set: (k: string, v: string) => w.call("SET", k, v), call: w.call };
    const other = io(port.single);
    assert.equal(await c.set("wait:a", "1"), "OK");
    assert.equal(await c.call("WAIT", "1", "2000"), 1);
    // A stopped replica acknowledges nothing: a write the client made is not counted as
    // replicated. A WAIT counting only its own connection's writes answers 1 at once (the
    // RESP2 case shows it; through ioredis the old way happened to answer 0 as well).
    await freeze(replica.child);
    try {
      assert.equal(await c.set("wait:b", "2"), "OK");
      const t0 = Date.now();
      assert.equal(await c.call("WAIT", "1", "300"), 0);
      // The same as a direct client that wrote on its own connection.
      const direct = io(port.master);
      assert.equal(await direct.set("wait:c", "3"), "OK");
      assert.equal(await direct.call("WAIT", "1", "300"), 0);
      assert.ok(Date.now() - t0 >= 250, "WAIT returned before its timeout");
      // Timeout 0 waits as long as it takes, past the pool's 400 ms timeout, and nobody
      // else waits with it.
      const forever = c.call("WAIT", "1", "0");
      for (let i = 0; i < 20; i++) assert.equal(await other.set(`wait:o${i}`, "v"), "OK");
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(await other.get("wait:o0"), "v");
      replica.child.kill("SIGCONT");
      assert.equal(await forever, 1);
    } finally {
      replica.child.kill("SIGCONT");
      await w.close();
    }
  }
}

describe("workers: 2 keep dedicated connections", { timeout: 60_000 }, () => {
  test("BLPOP 0 does not stall others, SUBSCRIBE gets messages, a WATCH race gets nil", async () => {
    // Enough connections that both processes serve some (the kernel spreads accepts).
    const blockers = Array.from({ length: 4 }, () => io(port.single));
    const pops = blockers.map((b, i) => b.blpop(`w:q${i}`, 0));
    const others = Array.from({ length: 6 }, () => io(port.single));
    for (const [i, o] of others.entries()) {
      assert.equal(await o.set(`w:k${i}`, "v"), "OK");
      assert.equal(await o.get(`w:k${i}`), "v");
    }
    const pusher = io(port.single);
    for (let i = 0; i < blockers.length; i++) await pusher.rpush(`w:q${i}`, `x${i}`);
    assert.deepEqual(
      await Promise.all(pops),
      blockers.map((_, i) => [`w:q${i}`, `x${i}`]),
    );

    const subs = Array.from({ length: 4 }, () => io(port.single));
    const got: string[][] = subs.map(() => []);
    await Promise.all(subs.map((s) => s.subscribe("w:chan")));
    for (const [i, s] of subs.entries()) {
      s.on("message", (_ch: string, m: string) => {
        got[i].push(m);
      });
    }
    await until(async () => {
      const [, n] = (await pusher.call("PUBSUB", "NUMSUB", "w:chan")) as [string, number];
      return n >= subs.length;
    }, "every subscriber counted");
    assert.equal(await pusher.publish("w:chan", "hello"), subs.length);
    await until(() => got.every((g) => g.length === 1), "every message");
    assert.deepEqual(
      got,
      subs.map(() => ["hello"]),
    );

    const a = io(port.single);
    const b = io(port.single);
    await a.set("w:race", "0");
    await a.watch("w:race");
    await b.watch("w:race");
    const ra = await a.multi().set("w:race", "a").exec();
    const rb = await b.multi().set("w:race", "b").exec();
    assert.deepEqual(ra, [[null, "OK"]]);
    assert.equal(rb, null);
    assert.equal(await pusher.get("w:race"), "a");
  });
});
