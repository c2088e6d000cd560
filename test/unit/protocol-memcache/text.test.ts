import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Cmd, MetaFlag, ParseStatus } from "../../../src/protocol/memcache/text.js";
import { assertSplitInvariant } from "../../helpers/split.js";
import { parseAll, textTarget } from "./text-helpers.js";

const OK = ParseStatus.Ok;
const ERRS = ParseStatus.Error;

function split(input: string) {
  return assertSplitInvariant(textTarget(), Buffer.from(input, "latin1"));
}

describe("text protocol: classic commands", () => {
  test("retrieval commands with one and many keys", () => {
    const r = split("get a\r\ngets a bb ccc\r\ngat 30 x y\r\ngats -1 z\r\n  get   sp  \r\nget a\n");
    assert.deepEqual(
      r.map((x) => [x.s, x.cmd, x.keys, x.exptime]),
      [
        [OK, Cmd.Get, ["a"], 0],
        [OK, Cmd.Gets, ["a", "bb", "ccc"], 0],
        [OK, Cmd.Gat, ["x", "y"], 30],
        [OK, Cmd.Gats, ["z"], -1],
        [OK, Cmd.Get, ["sp"], 0],
        [OK, Cmd.Get, ["a"], 0],
      ],
    );
    assert.equal(r[1].frame, "gets a bb ccc\r\n");
  });

  test("storage commands carry flags, exptime, bytes, data and the whole frame", () => {
    const input =
      "set k 5 -1 3\r\nabc\r\nadd k 0 0 0 noreply\r\n\r\nreplace k 1 2 1\r\nx\r\n" +
      "append k 0 0 2\r\n\r\n\r\nprepend k 0 0 1 junk\r\nz\r\ncas k 4294967297 0 1 18446744073709551615\r\nq\r\n";
    const r = split(input);
    assert.deepEqual(
      r.map((x) => [x.s, x.cmd, x.keys[0], x.flags, x.exptime, x.bytes, x.data, x.noreply, x.cas]),
      [
        [OK, Cmd.Set, "k", 5, -1, 3, "abc", false, ""],
        [OK, Cmd.Add, "k", 0, 0, 0, "", true, ""],
        [OK, Cmd.Replace, "k", 1, 2, 1, "x", false, ""],
        [OK, Cmd.Append, "k", 0, 0, 2, "\r\n", false, ""],
        [OK, Cmd.Prepend, "k", 0, 0, 1, "z", false, ""],
        [OK, Cmd.Cas, "k", 1, 0, 1, "q", false, "4294967295:4294967295"],
      ],
    );
    assert.equal(r[0].frame, "set k 5 -1 3\r\nabc\r\n");
    assert.equal(r.map((x) => x.frame).join(""), input);
  });

  test("exptime and flags wrap like memcached's strtol/strtoul into 32 bits", () => {
    const [a, b] = parseAll("set a 0 2147483648 1\r\nx\r\nset a 0 -2147483649 1\r\nx\r\n");
    assert.equal(a.exptime, -2147483648);
    assert.equal(b.exptime, 2147483647);
  });

  test("delete, incr/decr, touch, flush_all, verbosity, admin commands", () => {
    const r = split(
      "delete a\r\ndelete a 0\r\ndelete a noreply\r\ndelete a 0 noreply\r\nincr n 18446744073709551615\r\n" +
        "decr n 7 noreply\r\ntouch t 100\r\nflush_all\r\nflush_all 10 noreply\r\nflush_all noreply\r\n" +
        "verbosity 1\r\nversion\r\nstats\r\nstats slabs\r\nquit\r\nshutdown\r\nlru_crawler metadump all\r\n",
    );
    assert.deepEqual(
      r.map((x) => [x.s, x.cmd, x.noreply]),
      [
        [OK, Cmd.Delete, false],
        [OK, Cmd.Delete, false],
        [OK, Cmd.Delete, true],
        [OK, Cmd.Delete, true],
        [OK, Cmd.Incr, false],
        [OK, Cmd.Decr, true],
        [OK, Cmd.Touch, false],
        [OK, Cmd.FlushAll, false],
        [OK, Cmd.FlushAll, true],
        [OK, Cmd.FlushAll, true],
        [OK, Cmd.Verbosity, false],
        [OK, Cmd.Version, false],
        [OK, Cmd.Stats, false],
        [OK, Cmd.Stats, false],
        [OK, Cmd.Quit, false],
        [OK, Cmd.Shutdown, false],
        [OK, Cmd.LruCrawler, false],
      ],
    );
    assert.equal(r[4].delta, "4294967295:4294967295");
    assert.equal(r[5].delta, "0:7");
    assert.equal(r[6].exptime, 100);
  });
});

describe("text protocol: errors as memcached 1.6.18 replies", () => {
  const k251 = "k".repeat(251);
  // Each row: input, then [status, error] per parsed request. Replies observed from memcached.
  const cases: [string, [number, string][]][] = [
    ["bogus\r\n", [[ERRS, "ERROR"]]],
    ["GET a\r\n", [[ERRS, "ERROR"]]],
    ["\r\n", [[ERRS, "ERROR"]]],
    ["get\r\n", [[ERRS, "ERROR"]]],
    ["set a 0 0\r\n", [[ERRS, "ERROR"]]],
    [
      "set a 0 0 2\r\nxyz\r\nget a\r\n",
      [
        [ERRS, "CLIENT_ERROR bad data chunk"],
        [ERRS, "ERROR"],
        [OK, ""],
      ],
    ],
    [
      "set a 0 0 2 noreply\r\nxyz\r\n",
      [
        [ERRS, ""],
        [ERRS, "ERROR"],
      ],
    ],
    [
      "set a 0 0 -1\r\nxy\r\n",
      [
        [ERRS, "CLIENT_ERROR bad command line format"],
        [ERRS, "ERROR"],
      ],
    ],
    [
      "set a 0 0 1x\r\nx\r\n",
      [
        [ERRS, "CLIENT_ERROR bad command line format"],
        [ERRS, "ERROR"],
      ],
    ],
    [
      "set a -1 0 1\r\nx\r\n",
      [
        [ERRS, "CLIENT_ERROR bad command line format"],
        [ERRS, "ERROR"],
      ],
    ],
    [
      "set a\t0 0 1\r\nx\r\n",
      [
        [ERRS, "ERROR"],
        [ERRS, "ERROR"],
      ],
    ],
    [
      "cas a 0 0 1\r\nx\r\n",
      [
        [ERRS, "ERROR"],
        [ERRS, "ERROR"],
      ],
    ],
    [
      "cas a 0 0 1 x noreply\r\nx\r\n",
      [
        [ERRS, ""],
        [ERRS, "ERROR"],
      ],
    ],
    [`get a ${k251}\r\n`, [[ERRS, "CLIENT_ERROR bad command line format"]]],
    [
      `set ${k251} 0 0 1\r\nx\r\n`,
      [
        [ERRS, "CLIENT_ERROR bad command line format"],
        [ERRS, "ERROR"],
      ],
    ],
    ["incr a x\r\n", [[ERRS, "CLIENT_ERROR invalid numeric delta argument"]]],
    ["incr a -1\r\n", [[ERRS, "CLIENT_ERROR invalid numeric delta argument"]]],
    ["incr a 18446744073709551616\r\n", [[ERRS, "CLIENT_ERROR invalid numeric delta argument"]]],
    ["incr a x noreply\r\n", [[ERRS, ""]]],
    ["decr a\r\n", [[ERRS, "ERROR"]]],
    ["touch a\r\n", [[ERRS, "ERROR"]]],
    ["touch a x\r\n", [[ERRS, "CLIENT_ERROR invalid exptime argument"]]],
    ["gat x a\r\n", [[ERRS, "CLIENT_ERROR invalid exptime argument"]]],
    ["gat x a noreply\r\n", [[ERRS, "CLIENT_ERROR invalid exptime argument"]]],
    ["flush_all x\r\n", [[ERRS, "CLIENT_ERROR invalid exptime argument"]]],
    ["flush_all x noreply\r\n", [[ERRS, ""]]],
    ["verbosity\r\n", [[ERRS, "ERROR"]]],
    ["verbosity x\r\n", [[ERRS, "CLIENT_ERROR bad command line format"]]],
    ["verbosity 1 2 3\r\n", [[ERRS, "ERROR"]]],
    ["delete\r\n", [[ERRS, "ERROR"]]],
    [
      "delete a 5\r\n",
      [[ERRS, "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"]],
    ],
    [
      "delete a b c\r\n",
      [[ERRS, "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"]],
    ],
  ];
  for (const [input, want] of cases) {
    test(JSON.stringify(input.slice(0, 40)), () => {
      const got = assertSplitInvariant(textTarget(), Buffer.from(input, "latin1"));
      assert.deepEqual(
        got.map((x) => [x.s, x.error]),
        want,
      );
    });
  }

  test("an oversized value is answered SERVER_ERROR and swallowed, keeping the stream in sync", () => {
    const input = `set big 0 0 100\r\n${"v".repeat(100)}\r\nget a\r\n`;
    const got = assertSplitInvariant(textTarget({ maxValueBytes: 50 }), Buffer.from(input));
    assert.deepEqual(
      got.map((x) => [x.s, x.cmd, x.error]),
      [
        [ERRS, Cmd.Set, "SERVER_ERROR object too large for cache"],
        [OK, Cmd.Get, ""],
      ],
    );
  });

  test("a command line ends at its first NUL, as memcached's C-string handling has it", () => {
    const r = split(
      "get \u0000\r\nget a\u0000b\r\nset a\u0000b 0 0 1\r\nx\r\nget \u0001 ok \u0000 z\r\nstats\u0000 junk\r\n",
    );
    assert.deepEqual(
      r.map((x) => [x.s, x.cmd, x.keys, x.error]),
      [
        [ERRS, Cmd.Get, [], "ERROR"],
        [OK, Cmd.Get, ["a"], ""],
        [ERRS, Cmd.Set, [], "ERROR"],
        [ERRS, Cmd.Unknown, [], "ERROR"],
        [OK, Cmd.Get, ["\u0001", "ok"], ""],
        [OK, Cmd.Stats, [], ""],
      ],
    );
  });

  test("a line over 2048 bytes closes the connection, except a long multi-get", () => {
    const long = "x".repeat(2100);
    const [e] = parseAll(long);
    assert.equal(e.s, ERRS);
    assert.equal(e.close, true);
    assert.equal(e.error, "CLIENT_ERROR line too long");
    const keys = Array.from({ length: 400 }, (_, i) => `key${i}`);
    const r = split(`get ${keys.join(" ")}\r\nmn\r\n`);
    assert.equal(r[0].keys.length, 400);
    assert.equal(r[1].cmd, Cmd.Mn);
  });
});

describe("text protocol: meta commands", () => {
  test("mg with flags and tokens", () => {
    const [r] = split("mg foo v k c f s t O123 q T30 N60 R10 h l u\r\n");
    assert.equal(r.s, OK);
    assert.equal(r.cmd, Cmd.Mg);
    assert.deepEqual(r.keys, ["foo"]);
    assert.equal(r.opaque, "123");
    assert.equal(r.exptime, 30);
    assert.equal(r.noreply, true);
    for (const f of ["v", "k", "c", "f", "s", "t", "O", "q", "T", "N", "R", "h", "l", "u"] as const)
      assert.ok(r.mflags & MetaFlag[f], f);
    assert.deepEqual(r.toks.slice(0, 3), ["v", "k", "c"]);
  });

  test("ms with data, md, ma, mn, me, base64 keys", () => {
    const r = split(
      "ms k 2 T0 F7 C99 MS I\r\nhi\r\nmd k q C5\r\nma n MD D10 J3 N0\r\nmn\r\nme k\r\nmg YWJj b v\r\nms a 0\r\n\r\n",
    );
    assert.deepEqual(
      r.map((x) => [x.s, x.cmd]),
      [
        [OK, Cmd.Ms],
        [OK, Cmd.Md],
        [OK, Cmd.Ma],
        [OK, Cmd.Mn],
        [OK, Cmd.Me],
        [OK, Cmd.Mg],
        [OK, Cmd.Ms],
      ],
    );
    assert.equal(r[0].data, "hi");
    assert.equal(r[0].flags, 7);
    assert.equal(r[0].cas, "0:99");
    assert.equal(r[2].delta, "0:10");
    assert.ok(r[5].mflags & MetaFlag.b);
  });

  const cases: [string, [number, string][]][] = [
    ["mg\r\n", [[ERRS, "ERROR"]]],
    ["ms\r\n", [[ERRS, "ERROR"]]],
    ["me\r\n", [[ERRS, "CLIENT_ERROR bad command line format"]]],
    ["me a b\r\n", [[ERRS, "CLIENT_ERROR bad command line format"]]],
    ["ms a\r\n", [[ERRS, "CLIENT_ERROR bad command line format"]]],
    ["mg a v zz\r\n", [[ERRS, "CLIENT_ERROR invalid flag"]]],
    ["mg a 0\r\n", [[ERRS, "CLIENT_ERROR invalid flag"]]],
    ["mg a E5\r\n", [[ERRS, "CLIENT_ERROR invalid flag"]]],
    ["mg a v v\r\n", [[ERRS, "CLIENT_ERROR duplicate flag"]]],
    ["mg a Tx\r\n", [[ERRS, "CLIENT_ERROR bad token in command line format"]]],
    ["mg a N\r\n", [[ERRS, "CLIENT_ERROR bad token in command line format"]]],
    ["mg a Fx\r\n", [[ERRS, "CLIENT_ERROR bad command line format"]]],
    ["mg a D\r\n", [[ERRS, "CLIENT_ERROR invalid numeric delta value"]]],
    ["mg a b\r\n", [[ERRS, "CLIENT_ERROR error decoding key"]]],
    [`mg a O${"o".repeat(40)}\r\n`, [[ERRS, "CLIENT_ERROR opaque token too long"]]],
    [
      "mg a v c f h k l O1 q s t u N1 R1 T1 P L I MS\r\n",
      [[ERRS, "CLIENT_ERROR options flags are too long"]],
    ],
    ["md a Tx\r\n", [[ERRS, "CLIENT_ERROR invalid or duplicate flag"]]],
    ["md !! b\r\n", [[ERRS, "CLIENT_ERROR invalid or duplicate flag"]]],
    ["ma a Dx\r\n", [[ERRS, "CLIENT_ERROR invalid or duplicate flag"]]],
    ["ma a MZ\r\n", [[ERRS, "CLIENT_ERROR invalid mode for ma M token"]]],
    [
      "ms a x\r\nhi\r\nmn\r\n",
      [
        [ERRS, "CLIENT_ERROR bad command line format"],
        [ERRS, "ERROR"],
        [OK, ""],
      ],
    ],
    [
      "ms a 2 zz\r\nhi\r\nmn\r\n",
      [
        [ERRS, "CLIENT_ERROR invalid flag"],
        [OK, ""],
      ],
    ],
    [
      "ms a 2 MZ q\r\nhi\r\nmn\r\n",
      [
        [ERRS, "CLIENT_ERROR invalid mode for ms M token"],
        [OK, ""],
      ],
    ],
    [
      "ms a 2 MSS\r\nhi\r\nmn\r\n",
      [
        [ERRS, "CLIENT_ERROR incorrect length for M token"],
        [OK, ""],
      ],
    ],
    [
      "ms a 2 q\r\nhxx\r\nmn\r\n",
      [
        [ERRS, "CLIENT_ERROR bad data chunk"],
        [ERRS, "ERROR"],
        [OK, ""],
      ],
    ],
  ];
  for (const [input, want] of cases) {
    test(JSON.stringify(input.slice(0, 40)), () => {
      const got = assertSplitInvariant(textTarget(), Buffer.from(input, "latin1"));
      assert.deepEqual(
        got.map((x) => [x.s, x.error]),
        want,
      );
    });
  }

  test("newer flags E and x are accepted only when enabled", () => {
    const [r] = parseAll("ms a 1 E77\r\nx\r\n", { newerMetaFlags: true });
    assert.equal(r.s, OK);
    assert.ok(r.mflags & MetaFlag.E);
  });
});
