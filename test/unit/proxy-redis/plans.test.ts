import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { expectToken } from "../../../src/proxy/redis/index.js";
import { assertSplitInvariant } from "../../helpers/split.js";
import { cmd, keysOnTwoShards, makeState, type PlanView, plans, target } from "./helpers.js";

const ONE = 0;

/** Client ids (HELLO, CLIENT ID) differ per connection: compare them as "N". */
function sameIds(v: PlanView): PlanView {
  return "local" in v ? { ...v, local: v.local.replace(/id\r\n:\d+\r\n/, "id\r\n:N\r\n") } : v;
}

/** Every input is checked whole, byte by byte and split at every offset. */
function check(input: Buffer, state = makeState): PlanView[] {
  return assertSplitInvariant(() => {
    const t = target(state);
    return { feed: t.feed, drain: () => t.drain().map(sameIds) };
  }, input);
}

const notSupported = (c: string, why: string) =>
  `-ERR ${c} is not supported by keepcache proxy: ${why}\r\n`;
const CROSS = "its keys are on different servers; put them under one hash tag";

describe("keyed routing from the command table", () => {
  test("single-key commands go to their key's server, bytes unchanged", () => {
    const input = Buffer.concat([
      cmd("GET", "foo"),
      cmd("SET", "bar", "1", "EX", "10"),
      cmd("HSET", "h", "f", "v"),
      cmd("ZADD", "z", "1", "m"),
      cmd("XADD", "s", "*", "f", "v"),
      cmd("OBJECT", "ENCODING", "foo"),
    ]);
    const got = check(input);
    assert.deepEqual(
      got.map((p) => ("forward" in p ? [p.forward, p.readOnly] : p)),
      [
        ["foo", true],
        ["bar", false],
        ["h", false],
        ["z", false],
        ["s", false],
        ["foo", true],
      ],
    );
    assert.equal(got.map((p) => ("sent" in p ? p.sent : "")).join(""), input.toString());
  });

  test("inline requests are forwarded as multibulk", () => {
    assert.deepEqual(check(Buffer.from("GET foo\r\nset k 'a b'\n")), [
      { forward: "foo", sent: cmd("GET", "foo").toString(), expect: ONE, readOnly: true },
      { forward: "k", sent: cmd("set", "k", "a b").toString(), expect: ONE, readOnly: false },
    ]);
  });

  test("multi-key commands pass when a hash tag puts every key on one server", () => {
    const st = makeState();
    const [a, b] = keysOnTwoShards(st);
    const input = Buffer.concat([
      cmd("SINTERSTORE", "{u}dst", "{u}a", "{u}b"),
      cmd("RENAME", "{x}1", "{x}2"),
      cmd("SMOVE", a, b, "m"),
      cmd("BLPOP", a, b, "0"),
      cmd("BLPOP", `{${a}}1`, `{${a}}2`, "0"),
    ]);
    const got = check(input, () => st);
    assert.equal((got[0] as { forward: string }).forward, "{u}dst");
    assert.equal((got[1] as { forward: string }).forward, "{x}1");
    assert.deepEqual(got[2], { local: notSupported("SMOVE", CROSS) });
    assert.deepEqual(got[3], { local: notSupported("BLPOP", CROSS) });
    assert.equal((got[4] as { forward: string }).forward, `{${a}}1`);
  });

  test("EVAL/EVALSHA/FCALL by their numkeys keys", () => {
    const st = makeState();
    const [a, b] = keysOnTwoShards(st);
    const got = check(
      Buffer.concat([
        cmd("EVAL", "return 1", "2", "{t}a", "{t}b", "arg"),
        cmd("EVALSHA", "abc", "2", a, b),
        cmd("FCALL", "f", "1", "k", "x"),
        cmd("EVAL", "return 1", "0"),
      ]),
      () => st,
    );
    assert.equal((got[0] as { forward: string }).forward, "{t}a");
    assert.deepEqual(got[1], { local: notSupported("EVALSHA", CROSS) });
    assert.equal((got[2] as { forward: string }).forward, "k");
    // No key: a fixed server (the empty key's).
    assert.equal((got[3] as { forward: string }).forward, "");
  });

  test("MSETNX must stay atomic: one server or refused", () => {
    const st = makeState();
    const [a, b] = keysOnTwoShards(st);
    const got = plans(
      Buffer.concat([cmd("MSETNX", a, "1", b, "2"), cmd("MSETNX", "{m}1", "1", "{m}2", "2")]),
      st,
    );
    assert.deepEqual(got[0], { local: notSupported("MSETNX", CROSS) });
    assert.equal((got[1] as { forward: string }).forward, "{m}1");
  });

  test("malformed keyed requests reach a server, which answers its own error", () => {
    const got = plans(cmd("GET"));
    assert.equal((got[0] as { forward: string }).forward, "");
  });
});

describe("split across servers", () => {
  test("MGET, MSET, DEL, UNLINK, EXISTS, TOUCH split by server; one server passes whole", () => {
    const st = makeState();
    const [a, b] = keysOnTwoShards(st);
    for (const name of ["MGET", "DEL", "UNLINK", "EXISTS", "TOUCH"]) {
      const [p] = check(cmd(name, a, b, a), () => st);
      assert.ok("split" in p, name);
      assert.deepEqual(
        p.split.map((x) => x.key),
        [a, b],
      );
      assert.equal(p.split[0].request, cmd(name, a, a).toString());
      assert.equal(p.split[1].request, cmd(name, b).toString());
    }
    const [m] = plans(cmd("MSET", a, "1", b, "2"), st);
    assert.ok("split" in m);
    assert.deepEqual(
      m.split.map((x) => x.request),
      [cmd("MSET", a, "1").toString(), cmd("MSET", b, "2").toString()],
    );
    const [one] = plans(cmd("MGET", "{t}1", "{t}2"), st);
    assert.deepEqual(one, {
      forward: "{t}1",
      sent: cmd("MGET", "{t}1", "{t}2").toString(),
      expect: ONE,
      readOnly: true,
    });
  });

  test("MSET with a missing value gets redis' arity error", () => {
    assert.deepEqual(plans(cmd("MSET", "a", "1", "b")), [
      { local: "-ERR wrong number of arguments for 'mset' command\r\n" },
    ]);
  });
});

describe("keyless commands", () => {
  test("broadcast, any-server and refused", () => {
    const got = check(
      Buffer.concat([
        cmd("FLUSHALL"),
        cmd("DBSIZE"),
        cmd("INFO", "server"),
        cmd("SCRIPT", "LOAD", "return 1"),
        cmd("COMMAND", "COUNT"),
        cmd("TIME"),
        cmd("KEYS", "*"),
        cmd("SCAN", "0"),
        cmd("CONFIG", "SET", "maxmemory", "1"),
        cmd("SUBSCRIBE", "ch"),
        cmd("PUBLISH", "ch", "m"),
        cmd("WAIT", "1", "0"),
        cmd("CLUSTER", "INFO"),
        cmd("NOSUCH", "a", "b"),
      ]),
    );
    assert.deepEqual(got[0], { broadcast: cmd("FLUSHALL").toString(), expect: ONE });
    assert.ok("broadcast" in got[1] && "broadcast" in got[2] && "broadcast" in got[3]);
    assert.equal((got[4] as { forward: string }).forward, "");
    assert.equal((got[5] as { forward: string }).forward, "");
    assert.equal(
      plans(cmd("CONFIG", "GET", "save"))
        .map((p) => "forward" in p)
        .join(),
      "true",
    );
    assert.deepEqual(got[6], {
      local: notSupported(
        "KEYS",
        "keys are spread over several servers; send it to each server directly",
      ),
    });
    assert.match(
      (got[7] as { local: string }).local,
      /^-ERR SCAN is not supported by keepcache proxy: a SCAN cursor/,
    );
    assert.deepEqual(got[8], {
      local: notSupported("CONFIG", "admin commands must be sent to each server directly"),
    });
    // Classic pub/sub: the designated server, the empty key's (redis/dedicated.ts).
    assert.equal((got[9] as { forward: string }).forward, "");
    assert.equal((got[10] as { forward: string }).forward, "");
    assert.match((got[11] as { local: string }).local, /^-ERR WAIT is not supported/);
    assert.match((got[12] as { local: string }).local, /not a Redis Cluster node/);
    assert.deepEqual(got[13], {
      local: "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n",
    });
  });

  test("a single-server pool passes KEYS, SCAN, CONFIG and unknown commands through", () => {
    const st = () => makeState(1);
    const got = check(
      Buffer.concat([
        cmd("KEYS", "*"),
        cmd("SCAN", "0"),
        cmd("CONFIG", "GET", "x"),
        cmd("NOSUCH"),
        cmd("MGET", "a", "b"),
      ]),
      st,
    );
    assert.deepEqual(
      got.map((p) => ("forward" in p ? p.forward : p)),
      ["", "", "", "", "a"],
    );
    // Subscriber mode and MONITOR: forwarded, on a dedicated connection (conn-class.test.ts).
    assert.ok("forward" in plans(cmd("SUBSCRIBE", "ch"), st())[0]);
    assert.ok("forward" in plans(cmd("MONITOR"), st())[0]);
  });
});

describe("transactions", () => {
  test("MULTI/EXEC queue locally and go as one bundle to the keys' server", () => {
    const input = Buffer.concat([
      cmd("MULTI"),
      cmd("SET", "{t}a", "1"),
      cmd("INCR", "{t}b"),
      cmd("PING"),
      cmd("EXEC"),
    ]);
    const got = check(input);
    assert.deepEqual(got.slice(0, 4), [
      { local: "+OK\r\n" },
      { local: "+QUEUED\r\n" },
      { local: "+QUEUED\r\n" },
      { local: "+QUEUED\r\n" },
    ]);
    const bundle = [
      cmd("MULTI"),
      cmd("SET", "{t}a", "1"),
      cmd("INCR", "{t}b"),
      cmd("PING"),
      cmd("EXEC"),
    ];
    assert.deepEqual(got[4], {
      forward: "{t}a",
      sent: Buffer.concat(bundle).toString(),
      expect: expectToken(4),
      readOnly: false,
    });
  });

  test("a key on another server aborts the transaction; DISCARD; errors outside MULTI", () => {
    const st = makeState();
    const [a, b] = keysOnTwoShards(st);
    const got = check(
      Buffer.concat([
        cmd("MULTI"),
        cmd("SET", a, "1"),
        cmd("SET", b, "1"),
        cmd("MULTI"),
        cmd("EXEC"),
        cmd("EXEC"),
        cmd("DISCARD"),
        cmd("MULTI"),
        cmd("GET", a),
        cmd("DISCARD"),
        cmd("MULTI"),
        cmd("EXEC"),
        cmd("MULTI"),
        cmd("NOSUCH"),
        cmd("GET"),
        cmd("KEYS", "*"),
        cmd("FLUSHALL"),
        cmd("SELECT", "0"),
        cmd("EXEC"),
        cmd("WATCH", "k"),
        cmd("UNWATCH"),
      ]),
      () => st,
    );
    const locals = got.map((p) => ("local" in p ? p.local : "?"));
    assert.deepEqual(locals.slice(0, 12), [
      "+OK\r\n",
      "+QUEUED\r\n",
      notSupported("SET", "the keys of one transaction must all be on one server"),
      "-ERR MULTI calls can not be nested\r\n",
      "-EXECABORT Transaction discarded because of previous errors.\r\n",
      "-ERR EXEC without MULTI\r\n",
      "-ERR DISCARD without MULTI\r\n",
      "+OK\r\n",
      "+QUEUED\r\n",
      "+OK\r\n",
      "+OK\r\n",
      "*0\r\n",
    ]);
    assert.equal(locals[12], "+OK\r\n");
    assert.match(locals[13], /^-ERR unknown command 'NOSUCH'/);
    assert.equal(locals[14], "-ERR wrong number of arguments for 'get' command\r\n");
    assert.match(locals[15], /^-ERR KEYS is not supported/);
    assert.match(locals[16], /^-ERR FLUSHALL is not supported .*inside MULTI/);
    assert.match(locals[17], /^-ERR SELECT is not supported .*MULTI/);
    assert.equal(locals[18], "-EXECABORT Transaction discarded because of previous errors.\r\n");
    // WATCH and UNWATCH go to a server, on a dedicated connection (conn-class.test.ts).
    assert.deepEqual(locals.slice(19), ["?", "?"]);
  });
});

describe("proxy-answered commands", () => {
  test("PING, ECHO, SELECT, CLIENT naming, QUIT closes", () => {
    const got = check(
      Buffer.concat([
        cmd("PING"),
        cmd("ping", "hi"),
        cmd("ECHO", "x y"),
        cmd("SELECT", "0"),
        cmd("SELECT", "2"),
        cmd("CLIENT", "SETNAME", "app"),
        cmd("CLIENT", "GETNAME"),
        cmd("CLIENT", "SETINFO", "LIB-NAME", "x"),
        cmd("CLIENT", "KILL", "ID", "1"),
        cmd("QUIT"),
        cmd("GET", "never"),
      ]),
    );
    assert.deepEqual(got, [
      { local: "+PONG\r\n" },
      { local: "$2\r\nhi\r\n" },
      { local: "$3\r\nx y\r\n" },
      { local: "+OK\r\n" },
      {
        local: notSupported(
          "SELECT",
          "the proxy serves one database per pool (redis_db), which clients see as 0",
        ),
      },
      { local: "+OK\r\n" },
      { local: "$3\r\napp\r\n" },
      { local: "+OK\r\n" },
      {
        local: notSupported(
          "CLIENT",
          "CLIENT KILL would act on a server connection that clients share through the proxy",
        ),
      },
      { local: "+OK\r\n", close: true },
    ]);
  });

  test("AUTH against the pool password; NOAUTH until then", () => {
    const st = () => makeState(3, "s3cret");
    const got = check(
      Buffer.concat([
        cmd("GET", "a"),
        cmd("AUTH", "wrong"),
        cmd("AUTH", "other", "s3cret"),
        cmd("HELLO", "3"),
        cmd("AUTH", "s3cret"),
        cmd("GET", "a"),
      ]),
      st,
    );
    assert.deepEqual(got.slice(0, 5), [
      { local: "-NOAUTH Authentication required.\r\n" },
      { local: "-WRONGPASS invalid username-password pair or user is disabled.\r\n" },
      { local: "-WRONGPASS invalid username-password pair or user is disabled.\r\n" },
      {
        local:
          "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n",
      },
      { local: "+OK\r\n" },
    ]);
    assert.equal((got[5] as { forward: string }).forward, "a");
    const hello = plans(cmd("HELLO", "2", "AUTH", "default", "s3cret"), st());
    assert.match((hello[0] as { local: string }).local, /^\*14\r\n\$6\r\nserver\r\n/);
    const noPass = plans(cmd("AUTH", "x"));
    assert.match((noPass[0] as { local: string }).local, /^-ERR AUTH <password> called without/);
  });

  test("HELLO 3 switches the client to RESP3: replies as maps, requests unchanged", () => {
    const got = check(
      Buffer.concat([
        cmd("HELLO", "3"),
        cmd("GET", "k"),
        cmd("HELLO", "4"),
        cmd("HELLO", "2"),
        cmd("GET", "k"),
      ]),
    );
    assert.match((got[0] as { local: string }).local, /^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n/);
    assert.deepEqual(got[1], {
      forward: "k",
      sent: cmd("GET", "k").toString(),
      expect: 0,
      readOnly: true,
    });
    assert.deepEqual(got[2], { local: "-NOPROTO unsupported protocol version\r\n" });
    assert.match((got[3] as { local: string }).local, /^\*14\r\n/);
    assert.equal((got[4] as { sent: string }).sent, cmd("GET", "k").toString());
  });
});

test("a protocol error is redis' own text and closes", () => {
  assert.deepEqual(plans("*1\r\n$x\r\n"), [
    { error: "-ERR Protocol error: invalid bulk length\r\n", close: true },
  ]);
});
