/**
 * Redis through the proxy behaves like Redis where a client owns its server connection:
 * blocking commands, subscriber mode, WATCH, MONITOR, SCRIPT/FUNCTION KILL (dedicated backend
 * connections, src/proxy/dedicated.ts), Lua replies, protocol errors and large values; with
 * real redis-servers, ioredis, node-redis and redis-benchmark. Byte-level cases are checked
 * side by side against a direct connection to the same redis-server.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import type { Redis, RedisOptions } from "ioredis";
import { createClient } from "redis";
import { freePorts } from "../../tools/ports.js";
import { startRedis, stopAll } from "../../tools/procs.js";
import { ioredis, ioredisClients } from "../helpers/ioredis.js";
import { until } from "../helpers/keepcache-run.js";
import { type RunningProxy, startProxy } from "./proxy-harness.js";

let redisPorts: number[] = [];
let px: RunningProxy;
const port = { single: 0, shards: 0, tiny: 0 };
const closers: Array<() => Promise<unknown>> = [];

/** No retries and no reconnects: a failure shows as the command's error, never as a wait. */
function io(p: number, opts: RedisOptions = {}): Redis {
  return ioredis(p, {
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: false,
    ...opts,
  });
}

async function nodeRedis(p: number, resp: 2 | 3 = 3) {
  const c = createClient({
    RESP: resp,
    socket: { host: "127.0.0.1", port: p, reconnectStrategy: false },
  });
  c.on("error", () => {});
  await c.connect();
  closers.push(() => c.close());
  return c;
}

before(async () => {
  const ports = await freePorts(7);
  redisPorts = ports.slice(0, 3);
  // A script is "busy" (and killable) after busy-reply-threshold: 100 ms instead of 5 s.
  await Promise.all(redisPorts.map((p) => startRedis(p, ["--busy-reply-threshold", "100"])));
  [port.single, port.shards, port.tiny] = ports.slice(3, 6);
  const shardList = redisPorts.map((p, i) => `      - 127.0.0.1:${p}:1 r${i}`).join("\n");
  // `single` has a short proxy timeout: blocking commands must outlive it.
  px = await startProxy(`
pools:
  single:
    listen: 127.0.0.1:${port.single}
    redis: true
    timeout: 400
    # Scripts, functions and MONITOR are closed by default (command-policy.ts); this file tests
    # how they run on dedicated connections, so the pools open them.
    allow_commands: [eval, evalsha, script, function, fcall, monitor]
    servers:
      - 127.0.0.1:${redisPorts[0]}:1
  shards:
    listen: 127.0.0.1:${port.shards}
    redis: true
    hash: fnv1a_64
    hash_tag: "{}"
    distribution: ketama
    timeout: 2000
    allow_commands: [eval, evalsha, script, function, fcall, monitor]
    servers:
${shardList}
  tiny:
    listen: 127.0.0.1:${port.tiny}
    redis: true
    redis_dedicated_connections: 2
    allow_commands: [eval, evalsha, script, function, fcall, monitor]
    servers:
      - 127.0.0.1:${redisPorts[1]}:1
`);
});

after(async () => {
  for (const c of ioredisClients) c.disconnect();
  await Promise.all(closers.map((f) => f().catch(() => {})));
  await px?.stop();
  await stopAll();
});

/** Raw bytes in, everything the server sends until `quietMs` of silence or close. */
function raw(p: number, bytes: string | Buffer, quietMs = 150): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: p, host: "127.0.0.1" }, () => s.write(bytes));
    let got = "";
    let t: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(t);
      clearTimeout(cap);
      s.destroy();
      resolve(got);
    };
    const cap = setTimeout(done, 5000);
    const arm = () => {
      clearTimeout(t);
      t = setTimeout(done, quietMs);
    };
    arm();
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      arm();
    });
    s.on("close", done);
    s.on("error", reject);
  });
}

/** The same bytes to the redis-server directly and through the proxy: the same answer. */
async function sideBySide(bytes: string, proxyPort = port.single, direct = redisPorts[0]) {
  const [want, got] = [await raw(direct, bytes), await raw(proxyPort, bytes)];
  assert.equal(got, want, `through the proxy vs direct for ${JSON.stringify(bytes)}`);
}

/** Backend clients of `p` currently running `cmd` (CLIENT LIST, asked directly). */
async function blockedOn(p: number, cmd: string): Promise<number> {
  const c = io(p);
  const list = String(await c.client("LIST"));
  c.disconnect();
  return list.split("\n").filter((l) => l.includes(` cmd=${cmd} `)).length;
}

function benchmark(p: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const b = spawn("redis-benchmark", ["-h", "127.0.0.1", "-p", String(p), "-q", ...args]);
    let out = "";
    b.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    b.stderr.on("data", (d: Buffer) => {
      out += d;
    });
    const t = setTimeout(() => b.kill("SIGKILL"), 60_000);
    b.on("error", reject);
    b.on("exit", (code) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`redis-benchmark exited ${code}: ${out}`));
    });
  });
}

describe("blocking commands", { timeout: 60_000 }, () => {
  test("BRPOP with timeout 0 does not stall other clients running redis-benchmark", async () => {
    const waiter = io(port.single);
    const popped = waiter.brpop("blk:q", 0);
    await until(
      async () => (await blockedOn(redisPorts[0], "brpop")) === 1,
      "BRPOP blocked on the server",
    );
    const started = Date.now();
    const out = await benchmark(port.single, ["-n", "20000", "-c", "20", "-t", "set,get"]);
    assert.match(out, /SET: .*requests per second/);
    assert.match(out, /GET: .*requests per second/);
    // Generous: the stall this guards against is forever (timeout 0), not a few ms.
    assert.ok(Date.now() - started < 30_000, "redis-benchmark finished while BRPOP waits");
    await io(port.single).lpush("blk:q", "v");
    assert.deepEqual(await popped, ["blk:q", "v"]);
  });

  test("a blocking timeout longer than the proxy's request timeout is honoured", async () => {
    const c = io(port.single);
    const t0 = Date.now();
    assert.equal(await c.blpop("blk:none", 1), null); // 1 s > the pool's timeout: 400 ms
    assert.ok(Date.now() - t0 >= 900);
    assert.equal(await c.set("blk:after", "1"), "OK"); // the client carries on
    const xs = await c.xread("BLOCK", 600, "STREAMS", "blk:stream", "$");
    assert.equal(xs, null);
  });

  test("each blocking command waits on its own connection and gets its value", async () => {
    const c = io(port.single);
    const feed = io(port.single);
    const pending = [
      c.blmove("blk:src", "blk:dst", "LEFT", "RIGHT", 5),
      io(port.single).brpoplpush("blk:src2", "blk:dst", 5),
      io(port.single).bzpopmin("blk:z", 5),
      io(port.single).bzpopmax("blk:z2", 5),
      io(port.single).call("BLMPOP", "5", "1", "blk:m", "LEFT"),
    ];
    await until(async () => {
      const l = String(await io(redisPorts[0]).client("LIST"));
      return (l.match(/ flags=b /g) ?? []).length >= 5;
    }, "5 clients blocked");
    await feed.rpush("blk:src", "a");
    await feed.rpush("blk:src2", "b");
    await feed.zadd("blk:z", 1, "z1");
    await feed.zadd("blk:z2", 2, "z2");
    await feed.rpush("blk:m", "m1");
    const got = await Promise.all(pending);
    assert.deepEqual(got, [
      "a",
      "b",
      ["blk:z", "z1", "1"],
      ["blk:z2", "z2", "2"],
      ["blk:m", ["m1"]],
    ]);
  });

  test("a client that disconnects mid-BLPOP leaks no server connection", async () => {
    const before = await blockedOn(redisPorts[0], "blpop");
    const c = io(port.single);
    void c.blpop("blk:gone", 0).catch(() => {});
    await until(
      async () => (await blockedOn(redisPorts[0], "blpop")) === before + 1,
      "BLPOP blocked",
    );
    c.disconnect();
    await until(
      async () => (await blockedOn(redisPorts[0], "blpop")) === before,
      "BLPOP connection closed",
    );
  });

  test("the dedicated limit answers a clear error naming the setting", async () => {
    const a = io(port.tiny);
    const b = io(port.tiny);
    const pa = a.blpop("lim:a", 0);
    const pb = b.blpop("lim:b", 0);
    await until(async () => (await blockedOn(redisPorts[1], "blpop")) === 2, "two blocked");
    await assert.rejects(
      io(port.tiny).blpop("lim:c", 1),
      /all 2 dedicated connections in use \(redis_dedicated_connections in the pool config\)/,
    );
    await io(port.tiny).rpush("lim:a", "1");
    await io(port.tiny).rpush("lim:b", "2");
    assert.deepEqual(await Promise.all([pa, pb]), [
      ["lim:a", "1"],
      ["lim:b", "2"],
    ]);
    // Returned to the pool: the next blocking command gets one.
    assert.equal(await io(port.tiny).blpop("lim:c", 0.2), null);
  });
});

describe("pub/sub", { timeout: 60_000 }, () => {
  test("100 subscribers and a publisher; psubscribe; RESP2 messages", async () => {
    const subs = Array.from({ length: 100 }, () => io(port.single));
    const got = subs.map(() => [] as string[]);
    await Promise.all(
      subs.map(async (s, i) => {
        s.on("message", (_ch: string, m: string) => got[i].push(m));
        await s.subscribe("ps:news");
      }),
    );
    const pat = io(port.single);
    const pgot: string[] = [];
    pat.on("pmessage", (_p: string, ch: string, m: string) => pgot.push(`${ch}:${m}`));
    await pat.psubscribe("ps:*");
    const pub = io(port.single);
    for (let i = 0; i < 20; i++) assert.equal(await pub.publish("ps:news", `m${i}`), 101);
    const want = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await until(async () => got.every((g) => g.length === 20), "every message delivered");
    for (const g of got) assert.deepEqual(g, want);
    await until(async () => pgot.length === 20, "pattern messages");
    assert.equal(pgot[0], "ps:news:m0");
    // Unsubscribe, then the same connection serves ordinary commands again (RESP2).
    await subs[0].unsubscribe("ps:news");
    assert.equal(await subs[0].set("ps:k", "1"), "OK");
  });

  test("ioredis duplicate() subscriber and node-redis subscribe (RESP3 pushes)", async () => {
    const base = io(port.single);
    const sub = base.duplicate();
    sub.on("error", () => {});
    ioredisClients.push(sub);
    const got: string[] = [];
    sub.on("message", (_c: string, m: string) => got.push(m));
    await sub.subscribe("dup:ch");
    const nr = await nodeRedis(port.single, 3);
    const nsub = nr.duplicate();
    nsub.on("error", () => {});
    await nsub.connect();
    closers.push(() => nsub.close());
    const ngot: string[] = [];
    await nsub.subscribe("dup:ch", (m) => ngot.push(m));
    await nsub.pSubscribe("dup:*", (m, ch) => ngot.push(`p:${ch}:${m}`));
    // RESP3: the subscribed connection still serves ordinary commands.
    assert.equal(await base.publish("dup:ch", "one"), 3);
    await until(async () => got.length === 1 && ngot.length === 2, "messages");
    assert.deepEqual(got, ["one"]);
    assert.deepEqual(ngot.sort(), ["one", "p:dup:ch:one"]);
    await nsub.unsubscribe("dup:ch");
  });

  test("sharded and classic pub/sub on a pool of several servers", async () => {
    const sub = io(port.shards);
    const got: string[] = [];
    sub.on("smessage", (_c: string, m: string) => got.push(`s:${m}`));
    sub.on("message", (_c: string, m: string) => got.push(`c:${m}`));
    await sub.call("SSUBSCRIBE", "{sh}a", "{sh}b");
    const pub = io(port.shards);
    assert.equal(await pub.call("SPUBLISH", "{sh}a", "x"), 1);
    assert.equal(await pub.call("SPUBLISH", "{sh}b", "y"), 1);
    await until(async () => got.length === 2, "sharded messages");
    assert.deepEqual(got, ["s:x", "s:y"]);
    await assert.rejects(
      io(port.shards).call("SSUBSCRIBE", ...Array.from({ length: 30 }, (_, i) => `sc${i}`)),
      /SSUBSCRIBE is not supported by keepcache proxy: its channels are on different servers/,
    );
    const csub = io(port.shards);
    const cgot: string[] = [];
    csub.on("message", (c: string, m: string) => cgot.push(`${c}:${m}`));
    await csub.subscribe("classic1", "classic2");
    assert.equal(await pub.publish("classic1", "1"), 1);
    assert.equal(await pub.publish("classic2", "2"), 1);
    await until(async () => cgot.length === 2, "classic messages");
    assert.deepEqual(cgot, ["classic1:1", "classic2:2"]);
    await assert.rejects(io(port.shards).monitor(), /MONITOR is not supported by keepcache proxy/);
  });

  test("MONITOR on a single-server pool", async () => {
    const mon = await io(port.single).monitor();
    const seen: string[] = [];
    mon.on("monitor", (_t: string, args: string[]) => seen.push(args.join(" ")));
    await io(port.single).set("mon:k", "v");
    await until(async () => seen.some((s) => s === "set mon:k v"), "the SET seen");
    mon.disconnect();
  });
});

describe("WATCH, MULTI, EXEC", { timeout: 30_000 }, () => {
  test("two racing clients: the second EXEC is nil", async () => {
    const a = io(port.single);
    const b = io(port.single);
    await a.set("w:k", "0");
    await a.watch("w:k");
    await b.watch("w:k");
    const va = Number(await a.get("w:k"));
    const vb = Number(await b.get("w:k"));
    assert.deepEqual(
      await a
        .multi()
        .set("w:k", String(va + 1))
        .exec(),
      [[null, "OK"]],
    );
    assert.equal(
      await b
        .multi()
        .set("w:k", String(vb + 1))
        .exec(),
      null,
    );
    assert.equal(await a.get("w:k"), "1");
    // UNWATCH and DISCARD give the connection back; the next WATCH starts clean.
    await b.watch("w:k");
    assert.equal(await b.unwatch(), "OK");
    await b.watch("w:k");
    assert.deepEqual(await b.multi().incr("w:k").exec(), [[null, 2]]);
  });

  test("node-redis watch/multi/exec raises WatchError on a race", async () => {
    const a = await nodeRedis(port.single);
    const b = await nodeRedis(port.single, 2);
    await a.set("nw:k", "x");
    await a.watch("nw:k");
    await b.set("nw:k", "changed");
    await assert.rejects(a.multi().set("nw:k", "mine").exec(), /WATCH|watch/);
    assert.equal(await a.get("nw:k"), "changed");
    await a.watch("nw:k");
    assert.deepEqual(await a.multi().set("nw:k", "mine").exec(), ["OK"]);
  });

  test("a pool of several servers: WATCH with the transaction's keys on its server", async () => {
    const a = io(port.shards);
    const b = io(port.shards);
    await a.watch("{w}1", "{w}2");
    await b.set("{w}1", "other");
    assert.equal(await a.multi().set("{w}2", "mine").exec(), null);
    await a.watch("{w}1");
    assert.deepEqual(await a.multi().set("{w}2", "mine").exec(), [[null, "OK"]]);
    await assert.rejects(
      io(port.shards).watch(...Array.from({ length: 30 }, (_, i) => `wx${i}`)),
      /WATCH is not supported by keepcache proxy: its keys are on different servers/,
    );
  });

  test("side by side: EXECABORT after a queueing error, WATCH race in one pipeline", async () => {
    await sideBySide("MULTI\r\nSET sb:k 1\r\nNOSUCHCMD\r\nEXEC\r\nGET sb:k\r\n");
    await sideBySide("MULTI\r\nSET sb:k\r\nEXEC\r\n");
    await sideBySide("SET sb:w 1\r\nWATCH sb:w\r\nSET sb:w 2\r\nMULTI\r\nGET sb:w\r\nEXEC\r\n");
    await sideBySide("WATCH sb:w\r\nMULTI\r\nGET sb:w\r\nEXEC\r\nUNWATCH\r\nDISCARD\r\n");
  });
});

describe("scripts and protocol edges", { timeout: 30_000 }, () => {
  test("side by side: nested Lua replies, protocol errors close like Redis", async () => {
    await sideBySide(
      `EVAL "return {1, {2, {3, {4, 'x'}}}, redis.status_reply('ok'), {}, false}" 0\r\n`,
    );
    await sideBySide(
      `EVAL "local t = {} local c = t for i = 1, 40 do c[1] = {i} c = c[1] end return t" 0\r\n`,
    );
    await sideBySide(`EVAL "return redis.error_reply('MY custom')" 0\r\nPING\r\n`);
    await sideBySide("*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n");
    await sideBySide("*1\r\n$z\r\nPING\r\n");
    await sideBySide("PING\r\n*2\r\n$3\r\nGET\r\n$-5\r\n");
  });

  test("SCRIPT KILL and FUNCTION KILL reach the server while a script runs", async () => {
    // `tiny` has no request timeout: the busy script holds the shared connection.
    const runner = io(port.tiny);
    const killer = io(port.tiny);
    // Both clients finish connecting first: ioredis's ready check (INFO) travels on the shared
    // connection, so a client that connects while the script runs waits behind it.
    await Promise.all([runner.ping(), killer.ping()]);
    const busy = runner.eval("local i = 0 while true do i = i + 1 end", 0).catch((e: Error) => e);
    await until(async () => {
      const r = await killer.call("SCRIPT", "KILL").catch((e: Error) => e);
      return r === "OK";
    }, "script running");
    const err = await busy;
    assert.ok(err instanceof Error);
    assert.match(err.message, /killed by user/);
    await killer.call(
      "FUNCTION",
      "LOAD",
      "REPLACE",
      "#!lua name=kclib\nredis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}",
    );
    const busyFn = runner.call("FCALL", "spin", "0").catch((e: Error) => e);
    await until(async () => {
      const r = await killer.call("FUNCTION", "KILL").catch((e: Error) => e);
      return r === "OK";
    }, "function running");
    assert.match(String(await busyFn), /killed by user/);
    assert.equal(await runner.ping(), "PONG");
  });
});

describe("large values", { timeout: 120_000 }, () => {
  test("4 MB and 64 MB with SET, GET, APPEND (ioredis, node-redis)", async () => {
    // `tiny` has no request timeout: a 64 MB reply takes longer than `single`'s 400 ms.
    const c = io(port.tiny);
    const four = Buffer.alloc(4 * 1024 * 1024, "a");
    assert.equal(await c.set("big:4", four), "OK");
    assert.equal(await c.append("big:4", "tail"), four.length + 4);
    const back = await c.getBuffer("big:4");
    assert.equal(back?.length, four.length + 4);
    assert.equal(back?.subarray(-4).toString(), "tail");
    const sixtyFour = Buffer.alloc(64 * 1024 * 1024, "b");
    assert.equal(await c.set("big:64", sixtyFour), "OK");
    const big = await c.getBuffer("big:64");
    assert.ok(big?.equals(sixtyFour));
    const nr = await nodeRedis(port.tiny);
    assert.equal(await nr.set("big:nr", four), "OK");
    assert.equal((await nr.strLen("big:nr")) as number, four.length);
    await c.del("big:4", "big:64", "big:nr");
  });

  test("a request over the limit names max_request_bytes", async () => {
    const [smallPort] = await freePorts(1);
    const small = await startProxy(`
pools:
  small:
    listen: 127.0.0.1:${smallPort}
    redis: true
    max_request_bytes: 1024
    servers:
      - 127.0.0.1:${redisPorts[0]}:1
`);
    try {
      const got = await raw(small.port(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000\r\n");
      assert.match(got, /^-ERR Protocol error: invalid bulk length .*max_request_bytes/);
    } finally {
      await small.stop();
    }
  });
});

describe("pipelines", { timeout: 30_000 }, () => {
  test("one pipeline mixing blocking pops, WATCH, MULTI, EVAL and plain commands", async () => {
    const c = io(port.single);
    await c.del("mix:q", "mix:w");
    const res = await c
      .pipeline()
      .rpush("mix:q", "1", "2")
      .blpop("mix:q", 1)
      .watch("mix:w")
      .set("mix:x", "1")
      .call("MULTI")
      .incr("mix:w")
      .call("EXEC")
      .eval("return {KEYS[1], ARGV[1]}", 1, "mix:k", "arg")
      .brpop("mix:q", 1)
      .get("mix:x")
      .exec();
    assert.deepEqual(
      res?.map(([e, v]) => (e ? `ERR ${e.message}` : v)),
      [2, ["mix:q", "1"], "OK", "OK", "OK", "QUEUED", [1], ["mix:k", "arg"], ["mix:q", "2"], "1"],
    );
  });
});
