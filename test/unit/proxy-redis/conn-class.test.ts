/**
 * The Redis driver's connection classes (driver.ts Conn, redis/dedicated.ts): which requests
 * need a dedicated backend connection, how WATCH holds and EXEC/UNWATCH/DISCARD return one,
 * and how a client in subscriber mode is planned; on one server and on several.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type ClientState,
  Conn,
  type ForwardPlan,
  ParseResult,
} from "../../../src/proxy/driver.js";
import { redisDriver } from "../../../src/proxy/redis/index.js";
import { cmd, makeState, shardOfKey } from "./helpers.js";

type Held = { dedicated: number; streaming: boolean; dropped: number };

/** A parser over `n` servers whose core-side lease is `held` (the test plays the core). */
function parser(n: number, held: Held = { dedicated: -1, streaming: false, dropped: 0 }) {
  const base = makeState(n);
  const state: ClientState = {
    ...base,
    shardOf: base.shardOf,
    get dedicated() {
      return held.dedicated;
    },
    get streaming() {
      return held.streaming;
    },
    dropDedicated() {
      held.dropped++;
      held.dedicated = -1;
      held.streaming = false;
    },
  };
  const p = redisDriver.newClientParser({ maxRequestBytes: 1 << 20 }, state);
  return {
    state,
    held,
    parser: p,
    /** The plan of one request: a forward's class and bytes, or a local reply. */
    plan(...args: string[]) {
      p.feed(cmd(...args));
      assert.equal(p.next(), ParseResult.Plan);
      const plan = p.plan!;
      if (plan.kind === "local")
        return { local: plan.reply.toString(), close: plan.close === true };
      assert.equal(plan.kind, "forward");
      const f = plan as ForwardPlan;
      const bytes = f.rewrite ?? f.buf.subarray(f.frameStart, f.frameEnd);
      return {
        conn: f.conn,
        sent: bytes.toString(),
        hashKey: f.hashKey?.toString(),
        key: f.buf.toString("latin1", f.keyStart, f.keyEnd),
      };
    },
  };
}

describe("connection classes", () => {
  test("blocking commands, WAIT, SCRIPT/FUNCTION KILL take a connection for one request", () => {
    const c = parser(1);
    for (const args of [
      ["BLPOP", "q", "0"],
      ["BRPOP", "q", "1"],
      ["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"],
      ["BRPOPLPUSH", "a", "b", "0"],
      ["BLMPOP", "0", "1", "q", "LEFT"],
      ["BZPOPMIN", "z", "0"],
      ["BZPOPMAX", "z", "0"],
      ["BZMPOP", "0", "1", "z", "MIN"],
      ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
      ["xreadgroup", "group", "g", "c", "block", "10", "streams", "s", ">"],
      ["WAIT", "1", "100"],
      ["WAITAOF", "1", "0", "100"],
      ["SCRIPT", "KILL"],
      ["FUNCTION", "KILL"],
    ]) {
      assert.equal(c.plan(...args).conn, Conn.Once, args.join(" "));
    }
    // Not blocking: shared.
    assert.equal(c.plan("XREAD", "STREAMS", "block", "0").conn, Conn.Shared);
    assert.equal(c.plan("LPOP", "q").conn, Conn.Shared);
    assert.equal(c.plan("GET", "k").conn, Conn.Shared);
  });

  test("subscriber mode, MONITOR, CLIENT TRACKING become streams on one server", () => {
    const c = parser(1);
    for (const args of [
      ["SUBSCRIBE", "a"],
      ["PSUBSCRIBE", "a*"],
      ["SSUBSCRIBE", "a"],
      ["UNSUBSCRIBE"],
      ["MONITOR"],
      ["CLIENT", "TRACKING", "on"],
      ["CLIENT", "REPLY", "OFF"],
    ]) {
      assert.equal(c.plan(...args).conn, Conn.Stream, args.join(" "));
    }
    assert.equal(c.plan("PUBLISH", "a", "m").conn, Conn.Shared);
  });

  test("a RESP3 client's requests go unchanged on the RESP3 channel, streams included", () => {
    const c = parser(1);
    assert.equal(c.parser.channel, 0);
    c.plan("HELLO", "3");
    assert.equal(c.parser.channel, 1);
    assert.equal(c.plan("GET", "k").sent, cmd("GET", "k").toString());
    const p = c.plan("SUBSCRIBE", "ch");
    assert.equal(p.conn, Conn.Stream);
    assert.equal(p.sent, cmd("SUBSCRIBE", "ch").toString());
  });

  test("a protocol switch is a barrier; refused while a dedicated connection is held", () => {
    const c = parser(1);
    const barrier = () => {
      assert.equal(c.parser.next(), ParseResult.Plan);
      const plan = c.parser.plan!;
      assert.equal(plan.kind, "local");
      return plan.kind === "local" && plan.barrier === true;
    };
    c.parser.feed(cmd("HELLO", "3"));
    assert.equal(barrier(), true);
    // No switch (already RESP3), no barrier.
    c.parser.feed(cmd("HELLO", "3"));
    assert.equal(barrier(), false);
    assert.equal(c.plan("WATCH", "k").conn, Conn.Hold);
    c.held.dedicated = 0;
    assert.match(
      c.plan("HELLO", "2").local as string,
      /^-ERR keepcache: HELLO 2 cannot switch protocols while this connection holds a dedicated server connection/,
    );
    assert.equal(c.parser.channel, 1);
    assert.match(c.plan("HELLO", "3").local as string, /^%7\r\n/);
    c.held.dedicated = -1;
    c.parser.feed(cmd("RESET"));
    assert.equal(barrier(), true);
    assert.equal(c.parser.channel, 0);
  });

  test("WATCH holds a connection; EXEC, UNWATCH and DISCARD return it, routed by the key", () => {
    const c = parser(1);
    assert.equal(c.plan("WATCH", "k").conn, Conn.Hold);
    c.held.dedicated = 0;
    assert.deepEqual(c.plan("MULTI"), { local: "+OK\r\n", close: false });
    c.plan("SET", "k", "1");
    const exec = c.plan("EXEC");
    assert.equal(exec.conn, Conn.Release);
    assert.equal(exec.hashKey, "k");
    assert.equal(exec.sent, cmd("MULTI").toString() + cmd("SET", "k", "1") + cmd("EXEC"));
    // Not watching any more: UNWATCH is answered here.
    assert.deepEqual(c.plan("UNWATCH"), { local: "+OK\r\n", close: false });
    c.plan("WATCH", "k");
    assert.deepEqual([c.plan("UNWATCH").conn, c.plan("UNWATCH").local], [Conn.Release, "+OK\r\n"]);
    c.plan("WATCH", "k");
    c.plan("MULTI");
    const discard = c.plan("DISCARD");
    assert.equal(discard.conn, Conn.Release);
    assert.equal(discard.sent, cmd("UNWATCH").toString());
    // An empty transaction after WATCH still goes to the server: EXEC may answer nil.
    c.plan("WATCH", "k");
    c.plan("MULTI");
    assert.equal(c.plan("EXEC").sent, cmd("MULTI").toString() + cmd("EXEC"));
  });

  test("EXECABORT after WATCH and RESET drop the connection with its state", () => {
    const c = parser(1);
    c.plan("WATCH", "k");
    c.held.dedicated = 0;
    c.plan("MULTI");
    c.plan("NOSUCH");
    assert.match(c.plan("EXEC").local ?? "", /^-EXECABORT/);
    assert.equal(c.held.dropped, 1);
    c.plan("WATCH", "k");
    c.held.dedicated = 0;
    assert.deepEqual(c.plan("RESET"), { local: "+RESET\r\n", close: false });
    assert.equal(c.held.dropped, 2);
  });

  test("subscriber mode: requests go to the stream as they are; QUIT is answered here", () => {
    const c = parser(1, { dedicated: 0, streaming: true, dropped: 0 });
    for (const args of [["PING"], ["SUBSCRIBE", "b"], ["GET", "k"], ["UNSUBSCRIBE"]]) {
      const p = c.plan(...args);
      assert.equal(p.conn, Conn.Stream);
      assert.equal(p.sent, cmd(...args).toString());
    }
    assert.deepEqual(c.plan("QUIT"), { local: "+OK\r\n", close: true });
  });
});

describe("several servers", () => {
  test("blocking commands by their keys' server; across servers refused", () => {
    const c = parser(3);
    const p = c.plan("BLPOP", "{t}a", "{t}b", "0");
    assert.equal(p.conn, Conn.Once);
    const spread = Array.from({ length: 30 }, (_, i) => `bk${i}`);
    assert.match(
      c.plan("BLPOP", ...spread, "0").local ?? "",
      /^-ERR BLPOP is not supported by keepcache proxy: its keys are on different servers/,
    );
    assert.match(c.plan("WAIT", "1", "0").local ?? "", /^-ERR WAIT is not supported .*several/);
    assert.match(c.plan("SCRIPT", "KILL").local ?? "", /^-ERR SCRIPT\b.*running the script/);
    assert.match(c.plan("MONITOR").local ?? "", /^-ERR MONITOR is not supported/);
  });

  test("classic pub/sub on the designated server; sharded by channel", () => {
    const c = parser(3);
    const sub = c.plan("SUBSCRIBE", "a", "b");
    assert.equal(sub.conn, Conn.Stream);
    assert.equal(sub.key, ""); // the empty key's server
    assert.equal(c.plan("PUBLISH", "a", "m").key, "");
    const ss = c.plan("SSUBSCRIBE", "{c}1", "{c}2");
    assert.equal(ss.conn, Conn.Stream);
    assert.equal(ss.key, "{c}1");
    assert.equal(c.plan("SPUBLISH", "{c}2", "m").key, "{c}2");
    const spread = Array.from({ length: 30 }, (_, i) => `ch${i}`);
    assert.match(
      c.plan("SSUBSCRIBE", ...spread).local ?? "",
      /its channels are on different servers/,
    );
  });

  test("a streaming client asking for another server is closed with the reason", () => {
    const st = makeState(3);
    const home = shardOfKey(st, "sk0");
    const other = Array.from({ length: 100 }, (_, i) => `sk${i}`).find(
      (k) => shardOfKey(st, k) !== home,
    );
    const c = parser(3, { dedicated: home, streaming: true, dropped: 0 });
    assert.equal(c.plan("SSUBSCRIBE", "sk0").conn, Conn.Stream);
    const refused = c.plan("SSUBSCRIBE", other as string);
    assert.match(refused.local ?? "", /subscriber mode on another server/);
    assert.equal(refused.close, true);
  });

  test("WATCH: keys on one server, and the transaction's keys with them", () => {
    const c = parser(3);
    const spread = Array.from({ length: 30 }, (_, i) => `wk${i}`);
    assert.match(c.plan("WATCH", ...spread).local ?? "", /its keys are on different servers/);
    assert.equal(c.plan("WATCH", "{w}a").conn, Conn.Hold);
    c.held.dedicated = 0;
    c.plan("MULTI");
    const st = makeState(3);
    const away = spread.find((k) => shardOfKey(st, k) !== shardOfKey(st, "{w}a")) as string;
    assert.match(c.plan("SET", away, "1").local ?? "", /another server than the WATCHed keys/);
    assert.match(c.plan("EXEC").local ?? "", /^-EXECABORT/);
  });
});
