/** The command table against the real redis-server it was generated from. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import {
  COMMANDS,
  commandId,
  isAdmin,
  isBlocking,
  isPubSub,
  isReadOnly,
  isTransaction,
  isWrite,
  lookupCommand,
} from "../../../src/protocol/resp/commands.js";
import { RAW_COMMANDS } from "../../../src/protocol/resp/commands-table.js";
import { argView } from "../../../src/protocol/resp/encoder.js";
import { keyIndexes } from "../../../src/protocol/resp/key-positions.js";
import { freePort } from "../../../tools/ports.js";
import { repoRoot, startRedis, stopAll } from "../../../tools/procs.js";

function keysOf(args: string[]): string[] | string {
  const r = keyIndexes(lookupCommand(Buffer.from(args[0]), 0, args[0].length), argView(args));
  return typeof r === "string" ? r : r.map((i) => args[i]);
}

let client: Redis;

describe("redis command table", () => {
  before(async () => {
    const port = await freePort();
    await startRedis(port);
    client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
  });
  after(async () => {
    client?.disconnect();
    await stopAll();
  });

  test("the committed table is what the generator gets from redis-server now", () => {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot(), "scripts", "gen-redis-commands.mjs"), "--json"],
      {
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const fresh = JSON.parse(r.stdout) as { commands: unknown[] };
    assert.deepEqual(fresh.commands, JSON.parse(JSON.stringify(RAW_COMMANDS)));
  });

  test("ids, names and case-insensitive byte lookup", () => {
    assert.ok(COMMANDS.length > 300);
    for (const c of COMMANDS) {
      if (c.parent >= 0) continue;
      const up = Buffer.from(c.name.toUpperCase());
      assert.equal(lookupCommand(up, 0, up.length), c.id, c.name);
    }
    assert.equal(lookupCommand(Buffer.from("xget"), 0, 4), -1);
    assert.equal(COMMANDS[commandId("config get")].name, "config|get");
    assert.equal(COMMANDS[commandId("CONFIG|SET")].name, "config|set");
  });

  test("classification helpers follow redis flags", () => {
    const id = commandId;
    assert.ok(isReadOnly(id("get")) && !isWrite(id("get")));
    assert.ok(isWrite(id("set")) && !isReadOnly(id("set")));
    assert.ok(isBlocking(id("blpop")) && isBlocking(id("xread")) && !isBlocking(id("lpop")));
    assert.ok(isPubSub(id("subscribe")) && isPubSub(id("publish")));
    assert.ok(isAdmin(id("config set")) && isAdmin(id("shutdown")) && !isAdmin(id("get")));
    for (const t of ["multi", "exec", "discard", "watch", "unwatch"])
      assert.ok(isTransaction(id(t)), t);
    assert.ok(!isTransaction(id("get")));
  });

  test("key positions agree with COMMAND GETKEYS", async () => {
    const cases = [
      ["GET", "k"],
      ["SET", "k", "v", "EX", "10"],
      ["MSET", "a", "1", "b", "2"],
      ["MGET", "a", "b", "c"],
      ["DEL", "a", "b"],
      ["EVAL", "return 1", "2", "k1", "k2", "a1"],
      ["EVALSHA", "abc", "0", "x"],
      ["FCALL", "f", "1", "k", "a"],
      ["ZUNIONSTORE", "dst", "2", "s1", "s2", "WEIGHTS", "1", "2"],
      ["ZINTER", "2", "s1", "s2"],
      ["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s1", "0"],
      ["SORT", "src", "BY", "w_*", "LIMIT", "0", "1", "GET", "#", "STORE", "dst"],
      ["SORT_RO", "src", "ALPHA"],
      ["MIGRATE", "h", "1", "", "0", "5", "KEYS", "a", "b"],
      ["MIGRATE", "h", "1", "k", "0", "5"],
      ["GEORADIUS", "g", "1", "2", "3", "km", "STORE", "dst"],
      ["BLMPOP", "0", "2", "l1", "l2", "LEFT"],
      ["LMOVE", "a", "b", "LEFT", "RIGHT"],
      ["OBJECT", "ENCODING", "k"],
      ["XINFO", "STREAM", "s"],
      ["MEMORY", "USAGE", "k"],
      ["BITOP", "AND", "dst", "a", "b"],
      ["RENAME", "a", "b"],
    ];
    for (const args of cases) {
      const theirs = ((await client.call("COMMAND", "GETKEYS", ...args)) as Buffer[]).map(String);
      assert.deepEqual(keysOf(args), theirs, args.join(" "));
    }
  });

  test("malformed arguments are invalid, not guessed", () => {
    assert.equal(keysOf(["EVAL", "s", "x", "k"]), "invalid");
    assert.equal(keysOf(["EVAL", "s", "3", "k"]), "invalid");
    assert.equal(keysOf(["GET"]), "invalid");
    assert.equal(keysOf(["NOSUCH", "k"]), "unsupported");
    assert.deepEqual(keysOf(["EVAL", "s", "0"]), []);
    assert.deepEqual(keysOf(["PING"]), []);
  });
});
