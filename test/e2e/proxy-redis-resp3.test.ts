/**
 * RESP3 clients through the proxy (issue: a RESP3 client's requests used to be wrapped as
 * HELLO 3 / request / HELLO 2): each server has shared connections that said HELLO 3 once at
 * connect (proxy/redis/driver.ts channelHandshake), and RESP3 clients' requests pass through
 * them unchanged. Checked against real redis-servers, side by side with a direct RESP3
 * connection, with raw sockets, ioredis (protocol 3 and 2), node-redis and a replica set's
 * failover; and a RESP3 push that reaches a shared connection is skipped, never a reply.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Redis } from "ioredis";
import { createClient } from "redis";
import { RedisLab, RespConn } from "../../bench/failover/lab.js";
import type { ProxyPool } from "../../src/proxy/pool.js";
import { freePorts } from "../../tools/ports.js";
import { startRedis, stopAll } from "../../tools/procs.js";
import { ioredis, ioredisClients } from "../helpers/ioredis.js";
import { until } from "../helpers/keepcache-run.js";
import { RespSocket } from "../helpers/resp-socket.js";
import { type RunningProxy, serverOf, startProxy } from "./proxy-harness.js";

let ports: number[] = [];
let run: RunningProxy | undefined;
const sockets: RespSocket[] = [];

before(async () => {
  // single, push (one server each), then two for the sharded pool, then three listeners.
  ports = await freePorts(7);
  await Promise.all(ports.slice(0, 4).map((p) => startRedis(p)));
  const [single, push, s1, s2, lSingle, lPush, lShards] = ports;
  run = await startProxy(`single:
  listen: 127.0.0.1:${lSingle}
  redis: true
  servers:
    - 127.0.0.1:${single}:1
push:
  listen: 127.0.0.1:${lPush}
  redis: true
  servers:
    - 127.0.0.1:${push}:1
shards:
  listen: 127.0.0.1:${lShards}
  redis: true
  hash: fnv1a_64
  hash_tag: "{}"
  distribution: ketama
  servers:
    - 127.0.0.1:${s1}:1
    - 127.0.0.1:${s2}:1
`);
});

after(async () => {
  for (const s of sockets) s.close();
  for (const c of ioredisClients) c.disconnect();
  await run?.stop();
  await stopAll();
});

async function open(port: number): Promise<RespSocket> {
  const s = await RespSocket.connect(port);
  sockets.push(s);
  return s;
}

/** One command on a fresh direct RESP2 connection to a backend. */
async function direct(port: number, ...args: string[]): Promise<string> {
  const c = new RespConn(port);
  try {
    return await c.command(args);
  } finally {
    c.close();
  }
}

/** `calls` of one command in the backend's INFO commandstats (0 when absent). */
async function calls(port: number, cmd: string): Promise<number> {
  const info = await direct(port, "INFO", "commandstats");
  const m = new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info);
  return m ? Number(m[1]) : 0;
}

/** The backend's client lines with protocol `resp` (2 or 3). */
async function clientsWithResp(port: number, resp: number): Promise<string[]> {
  const list = await direct(port, "CLIENT", "LIST");
  const field = new RegExp(`\\bresp=${resp}\\b`);
  return list.split("\n").filter((l) => field.test(l));
}

function pool(name: string): ProxyPool {
  const p = [...(run as RunningProxy).proxy.pools()].find((x) => x.name === name);
  assert.ok(p, `pool ${name}`);
  return p;
}

/** Run twice (directly, then through the proxy) after a DEL of its keys. */
const SCRIPT: string[][] = [
  ["SET", "r3:k", "v"],
  ["GET", "r3:k"],
  ["GET", "r3:missing"],
  ["EXISTS", "r3:h"],
  ["HSET", "r3:h", "a", "1", "b", "2"],
  ["HGETALL", "r3:h"],
  ["SADD", "r3:s", "x"],
  ["SMEMBERS", "r3:s"],
  ["ZADD", "r3:z", "1.5", "m"],
  ["ZSCORE", "r3:z", "m"],
  ["CONFIG", "GET", "maxmemory"],
  ["HGET", "r3:h", "nope"],
  ["INCR", "r3:k"],
];

describe("RESP3 clients on a one-server pool", () => {
  test("one HELLO per backend connection, none per request; replies as direct RESP3", async () => {
    const [single, , , , lSingle] = ports;
    await direct(single, "CONFIG", "RESETSTAT");
    const c = await open(lSingle);
    assert.match((await c.pipeline([["HELLO", "3"]]))[0], /^%7\r\n/);
    // The same pipeline directly on a RESP3 connection and through the proxy, byte for byte.
    const fresh = ["DEL", "r3:k", "r3:h", "r3:s", "r3:z"];
    const d = await open(single);
    await d.pipeline([["HELLO", "3"], fresh]);
    const want = await d.pipeline(SCRIPT);
    d.close();
    await c.pipeline([fresh]);
    assert.deepEqual(await c.pipeline(SCRIPT), want);
    assert.deepEqual(want.slice(1, 8), [
      "$1\r\nv\r\n",
      "_\r\n",
      ":0\r\n",
      ":2\r\n",
      "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
      ":1\r\n",
      "~1\r\n$1\r\nx\r\n",
    ]);
    assert.equal(want[9], ",1.5\r\n");
    // 200 more requests from three RESP3 clients: still the one HELLO (direct + proxy = 2).
    const more = await Promise.all([0, 1, 2].map(() => open(lSingle)));
    await Promise.all(more.map((m) => m.pipeline([["HELLO", "3"]])));
    const batch = Array.from({ length: 200 }, (_, i) => ["GET", `r3:n${i}`]);
    const replies = await Promise.all(more.map((m) => m.pipeline(batch)));
    for (const r of replies) assert.ok(r.every((x) => x === "_\r\n"));
    assert.equal(await calls(single, "hello"), 2);
    assert.ok((await calls(single, "get")) >= 600 + 2 * 2);
    // The proxy's RESP3 connection is one shared connection (server_connections: 1).
    await until(async () => (await clientsWithResp(single, 3)).length === 1, "one RESP3 conn");
  });

  test("RESP2 and RESP3 clients pipeline on the same pool, each in its protocol", async () => {
    const [single, , , , lSingle] = ports;
    // replyMapping "resp3": a map reply arrives as an object, so call() shows the reply type.
    const r3 = ioredis(lSingle, { protocol: 3, replyMapping: "resp3" });
    const r2 = ioredis(lSingle, { protocol: 2 });
    const nr = createClient({
      socket: { host: "127.0.0.1", port: lSingle, reconnectStrategy: false },
    });
    await nr.connect();
    try {
      const n = 300;
      const run3 = async () => {
        const p = r3.pipeline();
        for (let i = 0; i < n; i++)
          p.hset(`mix:3:${i}`, "f", String(i)).call("hgetall", `mix:3:${i}`);
        p.call("config", "get", "maxmemory");
        const out = (await p.exec()) ?? [];
        for (let i = 0; i < n; i++) assert.deepEqual(out[2 * i + 1][1], { f: String(i) });
        // ioredis turns HGETALL into an object in both protocols, CONFIG GET only from a map.
        assert.deepEqual(out[2 * n][1], { maxmemory: "0" });
      };
      const run2 = async () => {
        const p = r2.pipeline();
        for (let i = 0; i < n; i++) p.hset(`mix:2:${i}`, "f", String(i)).hgetall(`mix:2:${i}`);
        p.call("config", "get", "maxmemory");
        const out = (await p.exec()) ?? [];
        for (let i = 0; i < n; i++) assert.deepEqual(out[2 * i + 1][1], { f: String(i) });
        assert.deepEqual(out[2 * n][1], ["maxmemory", "0"]);
      };
      const runNode = async () => {
        const m = nr.multi();
        for (let i = 0; i < 50; i++) m.sAdd(`mix:n:${i}`, "a").sMembers(`mix:n:${i}`);
        const out = await m.exec();
        for (let i = 0; i < 50; i++) assert.deepEqual(out[2 * i + 1], ["a"]);
      };
      await Promise.all([run3(), run2(), runNode(), run3(), run2()]);
      assert.equal(await nr.hGet("mix:3:7", "f"), "7");
      // A RESP2 raw client sees RESP2 (a flat array, no map) on the same pool meanwhile.
      const raw = await open(lSingle);
      assert.deepEqual(await raw.pipeline([["HGETALL", "mix:2:1"]]), [
        "*2\r\n$1\r\nf\r\n$1\r\n1\r\n",
      ]);
      assert.equal((await clientsWithResp(single, 3)).length, 1);
      assert.equal(await calls(single, "hello"), 2, "no HELLO per request");
    } finally {
      await nr.quit().catch(() => {});
    }
  });

  test("a HELLO that switches protocols mid-pipeline orders the requests around it", async () => {
    const [, , , , lSingle] = ports;
    const c = await open(lSingle);
    const got = await c.pipeline([
      ["DEL", "sw:h"],
      ["HSET", "sw:h", "a", "1"],
      ["HELLO", "3"],
      ["HGETALL", "sw:h"],
      ["HSET", "sw:h", "b", "2"],
      ["HELLO", "2"],
      ["HGETALL", "sw:h"],
      ["GET", "sw:none"],
    ]);
    assert.equal(got[1], ":1\r\n");
    assert.match(got[2], /^%7\r\n/);
    assert.equal(got[3], "%1\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert.equal(got[4], ":1\r\n");
    assert.match(got[5], /^\*14\r\n/);
    assert.equal(got[6], "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert.equal(got[7], "$-1\r\n");
  });

  test("WATCH/EXEC, MULTI and a timed-out BLPOP in RESP3; HELLO 2 refused while WATCHing", async () => {
    const [, , , , lSingle] = ports;
    const c = await open(lSingle);
    const got = await c.pipeline([
      ["HELLO", "3"],
      ["DEL", "tx:h"],
      ["WATCH", "tx:h"],
      ["HELLO", "2"],
      ["MULTI"],
      ["HSET", "tx:h", "a", "1"],
      ["HGETALL", "tx:h"],
      ["EXEC"],
      ["BLPOP", "tx:nolist", "0.1"],
      ["MULTI"],
      ["HGETALL", "tx:h"],
      ["EXEC"],
    ]);
    assert.match(got[3], /^-ERR keepcache: HELLO 2 cannot switch protocols while/);
    assert.equal(got[7], "*2\r\n:1\r\n%1\r\n$1\r\na\r\n$1\r\n1\r\n");
    // BLPOP's timeout is a RESP3 null on its dedicated RESP3 connection.
    assert.equal(got[8], "_\r\n");
    assert.equal(got[11], "*1\r\n%1\r\n$1\r\na\r\n$1\r\n1\r\n");
  });
});

describe("RESP3 clients on a pool of several servers", () => {
  test("split and broadcast commands merge RESP3 replies", async () => {
    const lShards = ports[6];
    const c = await open(lShards);
    const got = await c.pipeline([
      ["HELLO", "3"],
      ["FLUSHALL"],
      ["MSET", "a", "1", "b", "2", "c", "3", "d", "4"],
      ["MGET", "a", "b", "zz", "c", "d"],
      ["DBSIZE"],
      ["RANDOMKEY"],
    ]);
    assert.equal(got[1], "+OK\r\n");
    assert.equal(got[2], "+OK\r\n");
    assert.equal(got[3], "*5\r\n$1\r\n1\r\n$1\r\n2\r\n_\r\n$1\r\n3\r\n$1\r\n4\r\n");
    assert.equal(got[4], ":4\r\n");
    assert.match(got[5], /^\$1\r\n[abcd]\r\n$/);
    // Both servers got their keys on RESP3 connections that said HELLO once each.
    for (const p of ports.slice(2, 4)) assert.equal(await calls(p, "hello"), 1);
  });
});

describe("a RESP3 push on a shared connection", () => {
  test("is skipped and counted, never taken for a reply", async () => {
    const [, push, , , , lPush] = ports;
    const c = await open(lPush);
    await c.pipeline([["HELLO", "3"]]);
    assert.deepEqual(await c.pipeline([["SET", "p:0", "0"]]), ["+OK\r\n"]);
    const [line] = await clientsWithResp(push, 3);
    const id = /\bid=(\d+)/.exec(line)?.[1];
    assert.ok(id, line);
    // Invalidations for every key written go to the proxy's shared RESP3 connection.
    const tracker = new RespConn(push);
    try {
      assert.equal(
        await tracker.command(["CLIENT", "TRACKING", "on", "REDIRECT", id, "BCAST"]),
        "+OK\r\n",
      );
      const batch: string[][] = [];
      for (let i = 0; i < 100; i++) batch.push(["SET", `p:${i}`, `v${i}`], ["GET", `p:${i}`]);
      const got = await c.pipeline(batch);
      for (let i = 0; i < 100; i++) {
        assert.equal(got[2 * i], "+OK\r\n");
        assert.equal(got[2 * i + 1], `$${`v${i}`.length}\r\nv${i}\r\n`);
      }
      const server = serverOf(pool("push"), 0);
      // BCAST sends one push per event-loop turn of the server for the keys written in it.
      await until(async () => server.counters.unsolicited_skipped > 0, "pushes skipped");
      assert.deepEqual(await c.pipeline([["GET", "p:7"]]), ["$2\r\nv7\r\n"]);
      // The same connection still serves (never closed as out of step, never a failure).
      assert.match((await clientsWithResp(push, 3)).join("\n"), new RegExp(`\\bid=${id}\\b`));
      assert.equal(server.failures, 0);
    } finally {
      tracker.close();
    }
  });
});

describe("a RESP3 client across a replica set's failover", { timeout: 60_000 }, () => {
  let lab: RedisLab | undefined;
  after(async () => {
    await lab?.stop();
  });

  test("writes and reads follow the new master, in RESP3; a blocked BLPOP fails", async () => {
    lab = await RedisLab.start({ replicas: 1, mode: "builtin", read: "any" });
    const l = lab;
    const io = (): Redis =>
      ioredis(l.proxyPort, {
        protocol: 3,
        replyMapping: "resp3",
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        lazyConnect: false,
      });
    const c = io();
    assert.equal(await c.hset("fo:h", "a", "1"), 1);
    assert.deepEqual(await c.call("hgetall", "fo:h"), { a: "1" });
    const popped = io()
      .blpop("fo:q", 0)
      .catch((e: Error) => e);
    await until(async () => (await clientsWithResp(l.ports[0], 3)).length >= 2, "RESP3 conns");
    await l.waitReplicated(5000);
    assert.match(await l.failoverTo(1), /promoted/);
    const err = await popped;
    assert.ok(err instanceof Error, "BLPOP must fail, not hang");
    assert.match(err.message, /no longer/);
    // Writes go to the new master on its RESP3 connection; the map survived the failover.
    let wrote = false;
    for (let i = 0; i < 50 && !wrote; i++) {
      wrote = await c.hset("fo:h", "b", "2").then(
        () => true,
        () => new Promise<boolean>((r) => setTimeout(() => r(false), 100)),
      );
    }
    assert.ok(wrote, "a write succeeds after the failover");
    assert.deepEqual(await c.call("hgetall", "fo:h"), { a: "1", b: "2" });
    assert.ok((await clientsWithResp(l.ports[1], 3)).length >= 1);
  });
});
