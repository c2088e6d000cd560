/**
 * The Redis side of the sharding proxy end to end: `keepcache run -c <nutcracker.yml>` with
 * `redis: true` in front of three real redis-servers, driven by ioredis, node-redis (RESP3 by
 * default in v6, so every request takes the HELLO 3 wrap) and redis-benchmark; plus a
 * single-server pool (pass-through) and a pool with a client password and redis_auth.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "redis";
import { freePorts, waitForPort } from "../../tools/ports.js";
import { keepcacheBin, start, startRedis, stopAll } from "../../tools/procs.js";
import { ioredis, ioredisClients } from "../helpers/ioredis.js";

let dir = "";
let shardPorts: number[] = [];
let authPort = 0;
let proxy = { shards: 0, single: 0, secure: 0 };
const clients: Array<{ quit(): Promise<unknown> } | { disconnect(): void }> = [];

before(async () => {
  const ports = await freePorts(8);
  shardPorts = ports.slice(0, 3);
  authPort = ports[3];
  proxy = { shards: ports[4], single: ports[5], secure: ports[6] };
  await Promise.all(shardPorts.map((p) => startRedis(p)));
  await startRedis(authPort, ["--requirepass", "backpw"]);
  dir = mkdtempSync(join(tmpdir(), "kc-redis-e2e-"));
  const servers = shardPorts.map((p, i) => `    - 127.0.0.1:${p}:1 r${i}`).join("\n");
  const file = join(dir, "nutcracker.yml");
  writeFileSync(
    file,
    `shards:
  listen: 127.0.0.1:${proxy.shards}
  hash: fnv1a_64
  hash_tag: "{}"
  distribution: ketama
  redis: true
  timeout: 2000
  # Scripts are closed by default (command-policy.ts); this pool opens them.
  allow_commands: [eval, evalsha, script]
  servers:
${servers}
single:
  listen: 127.0.0.1:${proxy.single}
  redis: true
  servers:
    - 127.0.0.1:${shardPorts[0]}:1
secure:
  listen: 127.0.0.1:${proxy.secure}
  redis: true
  redis_auth: backpw
  password: clientpw
  servers:
    - 127.0.0.1:${authPort}:1
`,
  );
  await start(process.execPath, [keepcacheBin(), "run", "-c", file, "-s", "0"], {
    port: proxy.shards,
    env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" },
  });
  await waitForPort(proxy.single);
  await waitForPort(proxy.secure);
});

after(async () => {
  for (const c of ioredisClients) c.disconnect();
  for (const c of clients) {
    if ("disconnect" in c) c.disconnect();
    else await c.quit().catch(() => {});
  }
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Sends raw bytes and reads `lines` one-line replies (bounded in time). */
function exchange(port: number, bytes: string, lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" }, () => s.write(bytes));
    let got = "";
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`timeout; got ${JSON.stringify(got)}`));
    }, 5000);
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      const parts = got.split("\r\n");
      if (parts.length > lines) {
        clearTimeout(t);
        s.destroy();
        resolve(parts.slice(0, lines));
      }
    });
    s.on("error", reject);
  });
}

/** Which backend holds `key` (asked directly). */
async function holder(key: string): Promise<number[]> {
  const out: number[] = [];
  for (const [i, p] of shardPorts.entries()) {
    const c = ioredis(p);
    if ((await c.exists(key)) === 1) out.push(i);
    c.disconnect();
  }
  return out;
}

describe("ioredis through the proxy", () => {
  test("strings, hashes, lists, sets, sorted sets, expire/ttl, incr", async () => {
    const r = ioredis(proxy.shards);
    assert.equal(await r.set("io:s", "v1"), "OK");
    assert.equal(await r.get("io:s"), "v1");
    assert.equal(await r.incr("io:n"), 1);
    assert.equal(await r.incrby("io:n", 4), 5);
    assert.equal(await r.hset("io:h", { a: "1", b: "2" }), 2);
    assert.deepEqual(await r.hgetall("io:h"), { a: "1", b: "2" });
    assert.equal(await r.rpush("io:l", "a", "b", "c"), 3);
    assert.deepEqual(await r.lrange("io:l", 0, -1), ["a", "b", "c"]);
    assert.equal(await r.sadd("io:set", "x", "y"), 2);
    assert.deepEqual((await r.smembers("io:set")).sort(), ["x", "y"]);
    assert.equal(await r.zadd("io:z", 2, "b", 1, "a"), 2);
    assert.deepEqual(await r.zrange("io:z", "0", "-1"), ["a", "b"]);
    assert.equal(await r.zscore("io:z", "b"), "2");
    assert.equal(await r.expire("io:s", 100), 1);
    const ttl = await r.ttl("io:s");
    assert.ok(ttl > 90 && ttl <= 100, String(ttl));
    assert.equal(await r.ping(), "PONG");
    assert.equal(await r.echo("hi"), "hi");
  });

  test("MGET/MSET/DEL/EXISTS across shards, keys really spread", async () => {
    const r = ioredis(proxy.shards);
    // Varied names: similar ones (io:m0, io:m1...) tend to share a ketama point.
    const keys = Array.from(
      { length: 12 },
      (_, i) => `${String.fromCharCode(97 + i)}${i * 7919}:io`,
    );
    assert.equal(await r.mset(Object.fromEntries(keys.map((k) => [k, `v-${k}`]))), "OK");
    assert.deepEqual(await r.mget(...keys, "io:missing"), [...keys.map((k) => `v-${k}`), null]);
    const homes = new Set((await Promise.all(keys.map(holder))).map((h) => h.join()));
    assert.ok(homes.size >= 2, "keys should land on several servers");
    assert.equal(await r.exists(...keys, keys[0]), 13);
    assert.equal(await r.del(...keys), 12);
    assert.equal(await r.dbsize(), await r.dbsize()); // summed over servers, stable
  });

  test("a pipeline keeps order across shards and local replies", async () => {
    const r = ioredis(proxy.shards);
    const p = r.pipeline();
    const want: unknown[] = [];
    for (let i = 0; i < 60; i++) {
      p.set(`io:p${i}`, String(i));
      want.push("OK");
      if (i % 10 === 0) {
        p.ping();
        want.push("PONG");
        p.mget(`io:p${i}`, `io:p${Math.max(0, i - 5)}`, "io:nope");
        want.push([String(i), String(Math.max(0, i - 5)), null]);
      }
      p.get(`io:p${i}`);
      want.push(String(i));
    }
    const res = await p.exec();
    assert.ok(res);
    assert.deepEqual(
      res.map(([err, v]) => (err ? `ERR ${err.message}` : v)),
      want,
    );
  });

  test("transactions with hash tags; cross-shard ones fail clearly", async () => {
    const r = ioredis(proxy.shards);
    const res = await r.multi().set("{acct}a", "10").incrby("{acct}a", 5).get("{acct}a").exec();
    assert.deepEqual(res, [
      [null, "OK"],
      [null, 15],
      [null, "15"],
    ]);
    const keys = Array.from({ length: 40 }, (_, i) => `io:tx${i}`);
    const spread = await r
      .multi(keys.map((k) => ["set", k, "1"] as string[]))
      .exec()
      .catch((e: Error) => e);
    assert.ok(spread instanceof Error, "a cross-shard MULTI must fail");
    assert.match(spread.message, /EXECABORT/);
  });

  test("EVAL with keys on one server; cross-shard EVAL refused", async () => {
    const r = ioredis(proxy.shards);
    const script = "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[2])";
    await r.set("{lua}b", "B");
    assert.equal(await r.eval(script, 2, "{lua}a", "{lua}b", "A"), "B");
    assert.equal(await r.get("{lua}a"), "A");
    const keys = Array.from({ length: 40 }, (_, i) => `io:e${i}`);
    await assert.rejects(
      r.eval("return 1", keys.length, ...keys),
      /EVAL is not supported by keepcache proxy: its keys are on different servers/,
    );
    await assert.rejects(r.keys("*"), /ERR KEYS is not supported by keepcache proxy/);
  });
});

describe("node-redis (RESP3 by default) through the proxy", () => {
  test("usual commands, multi, mGet across shards, RESP3 map replies", async () => {
    const c = createClient({
      socket: { host: "127.0.0.1", port: proxy.shards, reconnectStrategy: false },
    });
    c.on("error", () => {});
    await c.connect();
    clients.push({ quit: () => c.quit() });
    assert.equal(await c.set("nr:s", "v"), "OK");
    assert.equal(await c.get("nr:s"), "v");
    assert.equal(await c.get("nr:missing"), null);
    assert.equal(await c.hSet("nr:h", { f1: "a", f2: "b" }), 2);
    assert.deepEqual({ ...(await c.hGetAll("nr:h")) }, { f1: "a", f2: "b" });
    assert.equal(await c.lPush("nr:l", ["1", "2"]), 2);
    assert.deepEqual(await c.lRange("nr:l", 0, -1), ["2", "1"]);
    assert.equal(await c.sAdd("nr:set", ["a", "b"]), 2);
    assert.equal(await c.zAdd("nr:z", [{ score: 1.5, value: "m" }]), 1);
    assert.equal(await c.zScore("nr:z", "m"), 1.5);
    assert.equal(await c.incr("nr:n"), 1);
    assert.equal(await c.expire("nr:n", 50), 1);
    assert.ok((await c.ttl("nr:n")) > 40);
    const keys = Array.from(
      { length: 10 },
      (_, i) => `${String.fromCharCode(97 + i)}${i * 7919}:nr`,
    );
    assert.equal(await c.mSet(keys.map((k) => [k, k.toUpperCase()] as [string, string])), "OK");
    assert.deepEqual(
      await c.mGet(keys),
      keys.map((k) => k.toUpperCase()),
    );
    const res = await c.multi().set("{nr}x", "1").incr("{nr}x").get("{nr}x").exec();
    assert.deepEqual(res, ["OK", 2, "2"]);
    assert.equal(await c.eval("return KEYS[1]", { keys: ["{nr}x"] }), "{nr}x");
  });

  test("RESP2 mode works too", async () => {
    const c = createClient({
      RESP: 2,
      socket: { host: "127.0.0.1", port: proxy.shards, reconnectStrategy: false },
    });
    c.on("error", () => {});
    await c.connect();
    clients.push({ quit: () => c.quit() });
    await c.hSet("nr2:h", "f", "v");
    assert.deepEqual({ ...(await c.hGetAll("nr2:h")) }, { f: "v" });
    assert.equal(await c.ping(), "PONG");
  });
});

describe("pools", () => {
  test("a single-server pool passes KEYS and SCAN through", async () => {
    const r = ioredis(proxy.single);
    await r.set("single:k1", "1");
    assert.ok((await r.keys("single:*")).includes("single:k1"));
    const [cursor, found] = await r.scan("0", "MATCH", "single:*", "COUNT", "1000");
    assert.equal(typeof cursor, "string");
    assert.ok(found.includes("single:k1"));
  });

  test("a client password is required; redis_auth is sent to the backend", async () => {
    const anon = ioredis(proxy.secure);
    // ioredis 6 opens with HELLO 3, which redis (and the proxy) refuse before AUTH.
    await assert.rejects(anon.get("k"), /NOAUTH/);
    assert.deepEqual(
      await exchange(proxy.secure, "GET k\r\nAUTH nope\r\nAUTH clientpw\r\nSET sec:k 0\r\n", 4),
      [
        "-NOAUTH Authentication required.",
        "-WRONGPASS invalid username-password pair or user is disabled.",
        "+OK",
        "+OK",
      ],
    );
    const r = ioredis(proxy.secure, { password: "clientpw" });
    assert.equal(await r.set("sec:k", "1"), "OK");
    assert.equal(await r.get("sec:k"), "1");
    const nr = createClient({
      password: "clientpw",
      socket: { host: "127.0.0.1", port: proxy.secure, reconnectStrategy: false },
    });
    nr.on("error", () => {});
    await nr.connect();
    clients.push({ quit: () => nr.quit() });
    assert.equal(await nr.get("sec:k"), "1");
  });
});

test("redis-benchmark default tests complete with no error reply", async () => {
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn("redis-benchmark", [
      "-h",
      "127.0.0.1",
      "-p",
      String(proxy.shards),
      "-q",
      "-n",
      "2000",
      "-c",
      "10",
    ]);
    let text = "";
    p.stdout.on("data", (d: Buffer) => {
      text += d.toString();
    });
    p.stderr.on("data", (d: Buffer) => {
      text += d.toString();
    });
    const t = setTimeout(() => p.kill("SIGKILL"), 90_000);
    p.on("error", reject);
    p.on("exit", (code) => {
      clearTimeout(t);
      if (code === 0) resolve(text);
      else reject(new Error(`redis-benchmark exited ${code}:\n${text}`));
    });
  });
  const lines = out.split(/[\r\n]+/).filter((l) => / requests per second/.test(l));
  assert.ok(lines.length >= 20, out);
  assert.doesNotMatch(out, /ERR|error|WARNING/i);
  for (const name of [
    "PING_INLINE",
    "SET",
    "GET",
    "INCR",
    "LPUSH",
    "SPOP",
    "ZADD",
    "LRANGE_600",
    "MSET",
  ]) {
    assert.ok(
      lines.some((l) => l.startsWith(name)),
      `${name} missing:\n${out}`,
    );
  }
});
