import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { Plan } from "../../../src/proxy/driver.js";
import { expectToken, RedisReplyFramer, redisDriver } from "../../../src/proxy/redis/index.js";
import { OutBuffer } from "../../../src/util/out-buffer.js";
import { assertSplitInvariant } from "../../helpers/split.js";
import { cmd, keysOnTwoShards, makeState, plans, target } from "./helpers.js";

type Framed = { reply: string; isError: boolean } | { broken: true };

/** A framer target that frames replies for the given expect tokens, in order. */
function framerTarget(expects: number[], shared = false) {
  const f = new RedisReplyFramer(shared);
  let i = 0;
  return {
    feed: (c: Buffer) => f.feed(c),
    drain(): Framed[] {
      const out: Framed[] = [];
      while (i < expects.length && f.next(expects[i])) {
        out.push({ reply: f.buf.toString("latin1", f.start, f.end), isError: f.isError });
        i++;
      }
      if (f.broken) out.push({ broken: true });
      return out;
    },
  };
}

describe("reply framer", () => {
  test("one reply per request; bundles skip the replies before the client's", () => {
    const input = Buffer.from(
      "+OK\r\n" +
        // a transaction bundle: MULTI +OK, 2x +QUEUED, EXEC's array
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:5\r\n" +
        // WAIT: PUBLISH's integer, then WAIT's
        ":0\r\n:1\r\n" +
        "$3\r\nabc\r\n",
    );
    const got = assertSplitInvariant(
      () => framerTarget([0, expectToken(3), expectToken(1), 0]),
      input,
    );
    assert.deepEqual(got, [
      { reply: "+OK\r\n", isError: false },
      { reply: "*2\r\n+OK\r\n:5\r\n", isError: false },
      { reply: ":1\r\n", isError: false },
      { reply: "$3\r\nabc\r\n", isError: false },
    ]);
  });

  test("role-change and server-condition errors set isError; request errors do not", () => {
    const replies = [
      "-READONLY You can't write against a read only replica.\r\n",
      "-LOADING Redis is loading the dataset in memory\r\n",
      "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n",
      "-NOREPLICAS Not enough good replicas to write.\r\n",
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
      "-ERR syntax error\r\n",
      "-READONLYX not a code\r\n",
      "!21\r\nLOADING still loading\r\n",
    ];
    const got = assertSplitInvariant(
      () => framerTarget(replies.map(() => 0)),
      Buffer.from(replies.join("")),
    );
    assert.deepEqual(
      got.map((g) => ("isError" in g ? g.isError : "broken")),
      [true, true, true, true, false, false, false, true],
    );
  });

  test("a server error among a bundle's skipped replies marks the reply", () => {
    const got = assertSplitInvariant(
      () => framerTarget([expectToken(2)]),
      Buffer.from("-LOADING x\r\n-LOADING x\r\n-EXECABORT Transaction discarded\r\n"),
    );
    assert.deepEqual(got, [{ reply: "-EXECABORT Transaction discarded\r\n", isError: true }]);
  });

  test("a shared connection skips RESP3 pushes and counts them; a dedicated one frames them", () => {
    const push = ">3\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n$0\r\n\r\n";
    const input = Buffer.from(`${push}+OK\r\n${push}%1\r\n+a\r\n:1\r\n:0\r\n${push}:2\r\n`);
    const shared = assertSplitInvariant(
      () => framerTarget([0, expectToken(1), expectToken(0)], true),
      input,
    );
    assert.deepEqual(shared, [
      { reply: "+OK\r\n", isError: false },
      { reply: ":0\r\n", isError: false },
      { reply: ":2\r\n", isError: false },
    ]);
    const f = new RedisReplyFramer(true);
    f.feed(input);
    while (f.next(0));
    assert.equal(f.skipped, 3);
    // With no request in flight: whole pushes skipped, one still arriving waited for, and
    // anything else refused (the connection is out of step).
    const idle = new RedisReplyFramer(true);
    idle.feed(Buffer.from(push + push.slice(0, 9)));
    assert.equal(idle.skipUnsolicited(), true);
    idle.feed(Buffer.from(push.slice(9)));
    assert.equal(idle.skipUnsolicited(), true);
    assert.equal(idle.skipped, 2);
    idle.feed(Buffer.from("+OK\r\n"));
    assert.equal(idle.skipUnsolicited(), false);
    const own = new RedisReplyFramer(false);
    assert.equal(own.skipUnsolicited(), true);
    own.feed(Buffer.from(push));
    assert.equal(own.skipUnsolicited(), false);
    const dedicated = assertSplitInvariant(
      () => framerTarget([0, 0]),
      Buffer.from(`${push}+OK\r\n`),
    );
    assert.deepEqual(dedicated, [
      { reply: push, isError: false },
      { reply: "+OK\r\n", isError: false },
    ]);
  });

  test("a broken stream is reported, not framed", () => {
    const got = assertSplitInvariant(() => framerTarget([0, 0]), Buffer.from("+OK\r\n?bad\r\n"));
    assert.deepEqual(got, [{ reply: "+OK\r\n", isError: false }, { broken: true }]);
  });
});

/** Runs a split or broadcast plan's merger over the given per-part replies. */
function merged(plan: Plan, replies: Array<string | { fail: string }>): string {
  assert.ok(plan.kind === "split" || plan.kind === "broadcast");
  replies.forEach((r, i) => {
    if (typeof r === "string") plan.merge.add(i, Buffer.from(r));
    else plan.merge.fail(i, r.fail);
  });
  const out = new OutBuffer();
  plan.merge.write(out);
  return out.buf.toString("latin1", 0, out.pos);
}

function planOf(req: Buffer, state = makeState()): Plan {
  const p = redisDriver.newClientParser({ maxRequestBytes: 1 << 20 }, state);
  p.feed(req);
  p.next();
  return p.plan!;
}

describe("mergers", () => {
  const st = makeState();
  const [a, b] = keysOnTwoShards(st);

  test("MGET reassembled in key order; DEL summed; MSET OK; a failure or error wins", () => {
    assert.equal(
      merged(planOf(cmd("MGET", a, b, a), st), ["*2\r\n$2\r\nva\r\n$-1\r\n", "*1\r\n$2\r\nvb\r\n"]),
      "*3\r\n$2\r\nva\r\n$2\r\nvb\r\n$-1\r\n",
    );
    assert.equal(merged(planOf(cmd("DEL", a, b), st), [":1\r\n", ":1\r\n"]), ":2\r\n");
    assert.equal(
      merged(planOf(cmd("MSET", a, "1", b, "2"), st), ["+OK\r\n", "+OK\r\n"]),
      "+OK\r\n",
    );
    assert.equal(
      merged(planOf(cmd("EXISTS", a, b), st), [":1\r\n", { fail: "server s1 timed out" }]),
      "-ERR server s1 timed out\r\n",
    );
    assert.equal(
      merged(planOf(cmd("DEL", a, b), st), ["-LOADING busy\r\n", ":1\r\n"]),
      "-LOADING busy\r\n",
    );
  });

  test("broadcast merges: FLUSHALL, DBSIZE, RANDOMKEY, SCRIPT LOAD, INFO", () => {
    assert.equal(merged(planOf(cmd("FLUSHALL")), ["+OK\r\n", "+OK\r\n", "+OK\r\n"]), "+OK\r\n");
    assert.equal(merged(planOf(cmd("DBSIZE")), [":1\r\n", ":2\r\n", ":3\r\n"]), ":6\r\n");
    assert.equal(
      merged(planOf(cmd("RANDOMKEY")), ["$-1\r\n", "$1\r\nk\r\n", "$1\r\nj\r\n"]),
      "$1\r\nk\r\n",
    );
    assert.equal(merged(planOf(cmd("RANDOMKEY")), ["$-1\r\n", "$-1\r\n", "$-1\r\n"]), "$-1\r\n");
    assert.equal(
      merged(planOf(cmd("SCRIPT", "LOAD", "x")), ["$2\r\nab\r\n", "$2\r\nab\r\n", "$2\r\nab\r\n"]),
      "$2\r\nab\r\n",
    );
    assert.equal(
      merged(planOf(cmd("FLUSHALL")), ["+OK\r\n", "-MISCONF no\r\n", { fail: "down" }]),
      "-ERR down\r\n",
    );
    const info = merged(planOf(cmd("INFO")), [
      "$13\r\nredis_version\r\n",
      "$1\r\nx\r\n",
      "$1\r\ny\r\n",
    ]);
    const m = /^\$(\d+)\r\n([\s\S]*)\r\n$/.exec(info);
    assert.ok(m);
    assert.equal(Number(m[1]), Buffer.byteLength(m[2]));
    assert.match(m[2], /^# Keepcache\r\n[\s\S]*pool_servers:3\r\n[\s\S]*redis_version$/);
  });
});

describe("driver", () => {
  test("probe, handshake and error reply", () => {
    const p = redisDriver.probe();
    assert.equal(p.request.toString(), "*1\r\n$4\r\nPING\r\n");
    assert.ok(p.ok(Buffer.from("+PONG\r\n")));
    assert.ok(!p.ok(Buffer.from("-LOADING x\r\n")));
    assert.deepEqual(
      redisDriver.handshake({ redisAuth: "pw", redisDb: 2 }).map((h) => h.request.toString()),
      [cmd("AUTH", "pw").toString(), cmd("SELECT", "2").toString()],
    );
    assert.deepEqual(redisDriver.handshake({ redisDb: 0 }), []);
    // A RESP3 client's connections (channel 1) say HELLO 3; a refusal fails the connection.
    assert.deepEqual(redisDriver.channelHandshake?.(0), []);
    const [hello] = redisDriver.channelHandshake?.(1) ?? [];
    assert.equal(hello.request.toString(), cmd("HELLO", "3").toString());
    assert.equal(hello.check?.(Buffer.from("%1\r\n$5\r\nproto\r\n:3\r\n")), undefined);
    assert.match(
      hello.check?.(Buffer.from("-ERR unknown command 'HELLO'\r\n")) ?? "",
      /HELLO 3.*unknown command/,
    );
    assert.equal(redisDriver.errorReply("server s0 down").toString(), "-ERR server s0 down\r\n");
  });
});

describe("fuzz", () => {
  const word = fc.stringMatching(/^[a-z{}]{1,6}$/);
  const command = fc.oneof(
    word.map((k) => ["GET", k]),
    fc.tuple(word, word).map(([k, v]) => ["SET", k, v]),
    fc.array(word, { minLength: 1, maxLength: 4 }).map((ks) => ["MGET", ...ks]),
    fc.array(word, { minLength: 1, maxLength: 4 }).map((ks) => ["DEL", ...ks]),
    fc.constant(["PING"]),
    fc.constant(["MULTI"]),
    fc.constant(["EXEC"]),
  );

  test("random pipelines give one plan per command, the same however they are split", () => {
    fc.assert(
      fc.property(
        fc.array(command, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (cmds, cuts) => {
          const input = Buffer.concat(cmds.map((c) => cmd(...c)));
          const whole = plans(input);
          assert.equal(whole.length, cmds.length);
          const t = target();
          const offsets = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort(
            (x, y) => x - y,
          );
          let prev = 0;
          const got = [];
          for (const o of [...offsets, input.length]) {
            t.feed(input.subarray(prev, o));
            got.push(...t.drain());
            prev = o;
          }
          assert.deepEqual(got, whole);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("arbitrary bytes never throw and yield plans or one protocol error", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const got = plans(Buffer.from(bytes));
        const errors = got.filter((g) => "error" in g);
        assert.ok(errors.length <= 1);
        if (errors.length === 1) assert.ok("error" in got[got.length - 1]);
      }),
      { numRuns: 300 },
    );
  });
});
