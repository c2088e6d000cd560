import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { COMMANDS, commandId } from "../../../src/protocol/resp/commands.js";
import { ParseStatus, RespRequestParser } from "../../../src/protocol/resp/parser.js";
import { chunkings } from "./split.js";

interface Parsed {
  args: string[];
  inline: boolean;
  cmd: string | null;
  frame: string;
}

/** Feeds the chunks, draining after each; returns the requests and the error reply, if any. */
function replay(chunks: Buffer[], limits = {}): { reqs: Parsed[]; error: string } {
  const p = new RespRequestParser(limits);
  const reqs: Parsed[] = [];
  for (const c of chunks) {
    p.feed(c);
    for (let guard = 0; guard < 10_000; guard++) {
      const st = p.next();
      if (st === ParseStatus.NeedMore) break;
      if (st === ParseStatus.Error) {
        assert.equal(p.close, true);
        return { reqs, error: p.errorReply };
      }
      const r = p.req;
      const args: string[] = [];
      for (let i = 0; i < r.argc; i++) {
        args.push(r.buf.subarray(r.argStart[i], r.argEnd[i]).toString("latin1"));
      }
      const frameBuf = r.inline ? p.req.buf : r.buf;
      reqs.push({
        args,
        inline: r.inline,
        cmd: r.cmd >= 0 ? COMMANDS[r.cmd].name : null,
        frame: r.inline ? "" : frameBuf.subarray(r.frameStart, r.frameEnd).toString("latin1"),
      });
    }
  }
  return { reqs, error: "" };
}

/** The same result whatever the chunking. */
function replayAll(input: string, limits = {}): { reqs: Parsed[]; error: string } {
  const buf = Buffer.from(input, "latin1");
  const first = replay([buf], limits);
  for (const { name, chunks } of chunkings(buf)) {
    assert.deepEqual(replay(chunks, limits), first, `${JSON.stringify(input)}: ${name}`);
  }
  return first;
}

describe("RESP request parser", () => {
  test("multibulk requests, pipelined, with frame ranges and command ids", () => {
    const a = "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n";
    const b = "*3\r\n$3\r\nset\r\n$1\r\nk\r\n$0\r\n\r\n";
    const c = "*1\r\n$4\r\nNOPE\r\n";
    const { reqs, error } = replayAll(a + b + c);
    assert.equal(error, "");
    assert.deepEqual(
      reqs.map((r) => [r.args, r.cmd, r.frame]),
      [
        [["GET", "foo"], "get", a],
        [["set", "k", ""], "set", b],
        [["NOPE"], null, c],
      ],
    );
  });

  test("binary values keep CR, LF and NUL bytes", () => {
    const v = "a\r\nb\0\r";
    const { reqs } = replayAll(`*2\r\n$4\r\nECHO\r\n$${v.length}\r\n${v}\r\n`);
    assert.deepEqual(reqs[0].args, ["ECHO", v]);
  });

  test("empty multibulks and empty inline lines are skipped", () => {
    const { reqs } = replayAll("*0\r\n*-1\r\n\r\n  \r\n\n*1\r\n$4\r\nPING\r\n");
    assert.deepEqual(
      reqs.map((r) => r.args),
      [["PING"]],
    );
  });

  test("inline commands: CRLF or LF, spaces, quotes and escapes like sdssplitargs", () => {
    const { reqs, error } = replayAll(
      "PING\r\nset  k\t\"a b\\x41\\n\"\nGET 'it\\'s'\r\nx\"y\" ''\r\n",
    );
    assert.equal(error, "");
    assert.deepEqual(
      reqs.map((r) => [r.args, r.inline]),
      [
        [["PING"], true],
        [["set", "k", "a bA\n"], true],
        [["GET", "it's"], true],
        [["xy", ""], true],
      ],
    );
    assert.equal(reqs[1].cmd, "set");
  });

  test("inline line ends at a NUL byte", () => {
    const { reqs } = replayAll("GET a\0b c\r\n");
    assert.deepEqual(reqs[0].args, ["GET", "a"]);
  });

  test("protocol errors carry redis-server's exact reply", () => {
    const cases: Array<[string, string, object?]> = [
      ["*x\r\n", "invalid multibulk length"],
      ["*\r\n", "invalid multibulk length"],
      ["*3000000000\r\n", "invalid multibulk length"],
      ["*01\r\n", "invalid multibulk length"],
      ["*1\r\n$-1\r\n", "invalid bulk length"],
      ["*1\r\n$600000000\r\n", "invalid bulk length"],
      ["*1\r\n$5\r\n", "invalid bulk length", { maxBulkLen: 4 }],
      ["*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", "expected '$', got 'f'"],
      ["*1\r\n:1\r\n", "expected '$', got ':'"],
      ["*1\r\n\r\n", "expected '$', got ' '"],
      ["*3\r\n", "invalid multibulk length", { maxArgs: 2 }],
      ['SET k "abc\r\n', "unbalanced quotes in request"],
      ['SET k "abc"d\r\n', "unbalanced quotes in request"],
      ["SET k 'abc\r\n", "unbalanced quotes in request"],
    ];
    for (const [input, what, limits] of cases) {
      const { error } = replayAll(input, limits);
      assert.equal(error, `-ERR Protocol error: ${what}\r\n`, JSON.stringify(input));
    }
  });

  test("requests before an error are still returned; the parser stays failed", () => {
    const { reqs, error } = replayAll("*1\r\n$4\r\nPING\r\n*1\r\n!");
    assert.deepEqual(reqs[0].args, ["PING"]);
    assert.equal(error, "");
    const p = new RespRequestParser();
    p.feed(Buffer.from("*1\r\n$4\r\nPING\r\n*1\r\n!\r\n"));
    assert.equal(p.next(), ParseStatus.Ok);
    assert.equal(p.next(), ParseStatus.Error);
    assert.equal(p.errorReply, "-ERR Protocol error: expected '$', got '!'\r\n");
    p.feed(Buffer.from("*1\r\n$4\r\nPING\r\n"));
    assert.equal(p.next(), ParseStatus.Error);
  });

  test("size limits on lines waiting for their terminator", () => {
    const limits = { maxInlineLen: 16 };
    assert.equal(
      replay([Buffer.from(`GET ${"a".repeat(20)}`)], limits).error,
      "-ERR Protocol error: too big inline request\r\n",
    );
    assert.equal(
      replay([Buffer.from(`*${"1".repeat(20)}`)], limits).error,
      "-ERR Protocol error: too big mbulk count string\r\n",
    );
    assert.equal(
      replay([Buffer.from(`*1\r\n$${"1".repeat(20)}`)], limits).error,
      "-ERR Protocol error: too big bulk count string\r\n",
    );
    assert.equal(replay([Buffer.from("GET aaaa")], limits).error, "");
  });

  test("a large bulk arriving in small chunks is assembled once", () => {
    const value = Buffer.alloc(1_000_000, 0x61);
    const input = Buffer.concat([
      Buffer.from(`*2\r\n$3\r\nSET\r\n$${value.length}\r\n`),
      value,
      Buffer.from("\r\n"),
    ]);
    const p = new RespRequestParser();
    let got = 0;
    for (let i = 0; i < input.length; i += 1000) {
      p.feed(input.subarray(i, i + 1000));
      while (p.next() === ParseStatus.Ok) {
        got++;
        assert.equal(p.req.argEnd[1] - p.req.argStart[1], value.length);
        assert.ok(p.req.buf.subarray(p.req.argStart[1], p.req.argEnd[1]).equals(value));
      }
    }
    assert.equal(got, 1);
    assert.equal(p.pending, 0);
  });

  test("command ids are case-insensitive", () => {
    const { reqs } = replayAll("*1\r\n$4\r\npInG\r\n");
    assert.equal(reqs[0].cmd, "ping");
    assert.equal(commandId("PING"), commandId("ping"));
  });
});
