/**
 * Large values in pieces: the request parser offers a request whose big last argument is
 * still arriving and then hands out the rest as pieces; the reply framer hands out a big
 * top-level bulk as it arrives, and an array, set or map reply from the moment a big bulk
 * inside it is arriving. Every byte comes out exactly once, in order, whatever the
 * chunking, and the framing after the value resumes where it should.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ParseStatus, RespRequestParser } from "../../../src/protocol/resp/parser.js";
import { RespReplyFramer } from "../../../src/protocol/resp/reply.js";
import {
  expectToken,
  RedisReplyFramer,
  STREAM_MIN,
} from "../../../src/proxy/redis/reply-framer.js";
import { value as anyReply } from "./reply-arbitrary.js";
import { chunkings } from "./split.js";

function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

const value = Buffer.from(Array.from({ length: 5000 }, (_, i) => 97 + (i % 26)));

describe("request pieces", () => {
  const req = Buffer.concat([
    Buffer.from(`*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$${value.length}\r\n`),
    value,
    Buffer.from("\r\n*1\r\n$4\r\nPING\r\n"),
  ]);

  for (const size of [1, 7, 64, 1000, 4999]) {
    test(`accepted: header, then the value in pieces, then the next request (chunks of ${size})`, () => {
      const p = new RespRequestParser({ streamMin: 1000 });
      let head: Buffer | undefined;
      const body: Buffer[] = [];
      const after: string[] = [];
      for (const c of chunks(req, size)) {
        p.feed(c);
        for (let s = p.next(); s !== ParseStatus.NeedMore; s = p.next()) {
          if (s === ParseStatus.Partial) {
            assert.equal(p.req.argc, 3);
            assert.equal(p.req.buf.toString("latin1", p.req.argStart[1], p.req.argEnd[1]), "key");
            head = Buffer.from(p.req.buf.subarray(p.req.frameStart, p.req.frameEnd));
            p.acceptStream();
          } else if (s === ParseStatus.Piece) {
            body.push(Buffer.from(p.req.buf.subarray(p.pieceStart, p.pieceEnd)));
          } else if (s === ParseStatus.Ok) {
            after.push(p.req.buf.toString("latin1", p.req.argStart[0], p.req.argEnd[0]));
          } else assert.fail(`status ${s}`);
        }
      }
      assert.ok(head !== undefined, "offered");
      const all = Buffer.concat([head, ...body]);
      assert.ok(all.equals(req.subarray(0, req.length - 14)), "every byte once, in order");
      assert.deepEqual(after, ["PING"]);
    });
  }

  test("declined: the request is buffered whole as before, offered once", () => {
    const p = new RespRequestParser({ streamMin: 1000 });
    let offers = 0;
    const got: number[] = [];
    for (const c of chunks(req, 300)) {
      p.feed(c);
      for (let s = p.next(); s !== ParseStatus.NeedMore; s = p.next()) {
        if (s === ParseStatus.Partial) offers++;
        else if (s === ParseStatus.Ok) got.push(p.req.argc);
      }
    }
    assert.equal(offers, 1);
    assert.deepEqual(got, [3, 1]);
  });

  test("small values and values that are not the last argument are never offered", () => {
    const p = new RespRequestParser({ streamMin: 1000 });
    const big = `*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$${value.length}\r\n${value}\r\n$2\r\nNX\r\n`;
    for (const c of chunks(Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nabc\r\n${big}`), 5)) {
      p.feed(c);
      for (let s = p.next(); s !== ParseStatus.NeedMore; s = p.next()) {
        assert.equal(s, ParseStatus.Ok);
      }
    }
  });
});

describe("reply pieces", () => {
  const reply = Buffer.concat([
    Buffer.from(`$${value.length}\r\n`),
    value,
    Buffer.from("\r\n+OK\r\n"),
  ]);

  for (const size of [1, 3, 100, 4999, 6000]) {
    test(`a big bulk comes out once, in order; the next reply follows (chunks of ${size})`, () => {
      const f = new RespReplyFramer({ streamMin: 1000 });
      const parts: Buffer[] = [];
      const whole: string[] = [];
      for (const c of chunks(reply, size)) {
        f.feed(c);
        for (;;) {
          const s = f.next();
          if (s === ParseStatus.Ok) {
            const r = f.reply;
            whole.push(r.buf.toString("latin1", r.frameStart, r.frameEnd));
            if (parts.length > 0 && whole.length === 1) parts.push(Buffer.from(whole[0], "latin1"));
            continue;
          }
          assert.equal(s, ParseStatus.NeedMore);
          if (!f.streamable) break;
          while (f.piece()) {
            parts.push(Buffer.from(f.reply.buf.subarray(f.pieceStart, f.pieceEnd)));
          }
          break;
        }
      }
      assert.equal(whole.at(-1), "+OK\r\n");
      const first = parts.length > 0 ? Buffer.concat(parts) : Buffer.from(whole[0], "latin1");
      assert.ok(first.equals(reply.subarray(0, reply.length - 5)));
    });
  }

  test("a bulk not followed by CRLF breaks the framer after its pieces", () => {
    const f = new RespReplyFramer({ streamMin: 10 });
    f.feed(Buffer.from("$20\r\n0123456789"));
    assert.equal(f.next(), ParseStatus.NeedMore);
    assert.ok(f.piece());
    f.feed(Buffer.from("0123456789XY"));
    assert.equal(f.next(), ParseStatus.Error);
  });

  test("a bundle's reply streams its own bulk after skipping the replies before it", () => {
    const f = new RedisReplyFramer();
    const big = Buffer.alloc(300 * 1024, "z");
    // A skipped map (e.g. a reply before the client's in a bundle), then the client's bulk.
    const before = "%1\r\n+server\r\n+redis\r\n";
    const bytes = Buffer.concat([
      Buffer.from(`${before}$${big.length}\r\n`),
      big,
      Buffer.from("\r\n"),
    ]);
    const out: Buffer[] = [];
    let done = false;
    const expect = expectToken(1);
    for (const c of chunks(bytes, 64 * 1024)) {
      f.feed(c);
      if (f.next(expect)) {
        out.push(Buffer.from(f.buf.subarray(f.start, f.end)));
        done = true;
      } else if (f.streamable) {
        while (f.piece()) out.push(Buffer.from(f.buf.subarray(f.start, f.end)));
      }
    }
    assert.ok(done);
    assert.ok(out.length > 2, "streamed in pieces");
    const all = Buffer.concat(out);
    assert.equal(all.length, big.length + `$${big.length}\r\n`.length + 2);
  });
});

describe("nested pieces through the proxy's Redis framer", () => {
  const bigValue = Buffer.alloc(300 * 1024, "q");
  const arrayOfBig = Buffer.concat([
    Buffer.from(`*2\r\n:1\r\n$${bigValue.length}\r\n`),
    bigValue,
    Buffer.from("\r\n"),
  ]);

  /** Feeds `bytes` in 64 KB reads; the client's reply as pieces + frame, and the piece count. */
  function client(f: RedisReplyFramer, bytes: Buffer, expect: number) {
    const out: Buffer[] = [];
    let pieces = 0;
    let done = false;
    for (const c of chunks(bytes, 64 * 1024)) {
      f.feed(c);
      if (f.next(expect)) {
        out.push(Buffer.from(f.buf.subarray(f.start, f.end)));
        done = true;
        assert.equal(f.isError, false, "an aggregate is never an error reply");
      } else if (f.streamable) {
        while (f.piece()) {
          out.push(Buffer.from(f.buf.subarray(f.start, f.end)));
          pieces++;
        }
      }
    }
    assert.ok(done);
    return { bytes: Buffer.concat(out), pieces };
  }

  test("EXEC's array streams after the bundle's +OK and +QUEUED are skipped", () => {
    const exec = Buffer.concat([Buffer.from("*1\r\n"), arrayOfBig]);
    const bytes = Buffer.concat([Buffer.from("+OK\r\n+QUEUED\r\n"), exec]);
    const r = client(new RedisReplyFramer(), bytes, expectToken(2));
    assert.ok(r.pieces > 2, "streamed in pieces");
    assert.ok(r.bytes.equals(exec));
  });

  test("a shared connection skips a push holding a big value; the reply after it streams", () => {
    const push = Buffer.concat([
      Buffer.from(`>2\r\n$10\r\ninvalidate\r\n$${bigValue.length}\r\n`),
      bigValue,
      Buffer.from("\r\n"),
    ]);
    const f = new RedisReplyFramer(true);
    const r = client(f, Buffer.concat([push, arrayOfBig]), expectToken(0));
    assert.equal(f.skipped, 1);
    assert.ok(r.pieces > 2, "streamed in pieces");
    assert.ok(r.bytes.equals(arrayOfBig), "no byte of the push reached the client");
  });
});

/** One framed reply: its type byte, its bytes (pieces, then the frame), and how many pieces. */
type Streamed = { type: string; bytes: string; pieces: number };

/** Frames `chunks`, taking every piece offered; a reply's pieces plus its frame are its bytes. */
function streamReplies(chunks: Buffer[], streamMin: number): { out: Streamed[]; error: string } {
  const f = new RespReplyFramer({ streamMin });
  const out: Streamed[] = [];
  let acc: Buffer[] = [];
  for (const c of chunks) {
    f.feed(c);
    for (;;) {
      const s = f.next();
      if (s === ParseStatus.Error) return { out, error: f.error };
      if (s === ParseStatus.Ok) {
        const r = f.reply;
        if (acc.length > 0) assert.deepEqual(r.elemStart, [], "no element ranges after pieces");
        const frame = r.buf.subarray(r.frameStart, r.frameEnd);
        const bytes = Buffer.concat([...acc, frame]).toString("latin1");
        out.push({ type: String.fromCharCode(r.type), bytes, pieces: acc.length });
        acc = [];
        continue;
      }
      while (f.streamable && f.piece()) {
        assert.ok(f.pieceEnd > f.pieceStart);
        acc.push(Buffer.from(f.reply.buf.subarray(f.pieceStart, f.pieceEnd)));
      }
      break;
    }
  }
  return { out, error: "" };
}

/** `buf` cut into reads of sizes[0], sizes[1], ... round and round. */
function cutBy(buf: Buffer, sizes: number[]): Buffer[] {
  const cut: Buffer[] = [];
  for (let i = 0, k = 0; i < buf.length; k++) {
    const n = sizes[k % sizes.length];
    cut.push(buf.subarray(i, i + n));
    i += n;
  }
  return cut;
}

const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const big = (n: number, c: string): string => c.repeat(n);

describe("nested reply pieces", () => {
  // An LRANGE of two large elements around a small one, then an HGETALL-like map, then +OK.
  const lrange = `*3\r\n${bulk(big(20, "a"))}${bulk("x")}${bulk(big(30, "b"))}`;
  const hgetall = `%2\r\n${bulk("f1")}${bulk(big(25, "c"))}${bulk("f2")}:7\r\n`;
  const exec = `*2\r\n*2\r\n${bulk(big(16, "d"))}${bulk("y")}+OK\r\n`;
  const input = Buffer.from(`${lrange}${hgetall}${exec}+OK\r\n`, "latin1");

  test("whole, byte by byte, split at every offset: pieces + frame are each reply's bytes", () => {
    for (const { name, chunks } of chunkings(input)) {
      const { out, error } = streamReplies(chunks, 10);
      assert.equal(error, "", name);
      assert.deepEqual(
        out.map((r) => [r.type, r.bytes]),
        [
          ["*", lrange],
          ["%", hgetall],
          ["*", exec],
          ["+", "+OK\r\n"],
        ],
        name,
      );
      if (name === "byte by byte") {
        assert.ok(out[0].pieces > 20 && out[1].pieces > 10 && out[2].pieces > 10, name);
      }
    }
  });

  test("no bulk of streamMin or more and fewer bytes: the aggregate is held whole with its element ranges", () => {
    const { out } = streamReplies(chunks(input, 1), 100);
    assert.deepEqual(
      out.map((r) => r.pieces),
      [0, 0, 0, 0],
    );
    const f = new RespReplyFramer({ streamMin: 100 });
    f.feed(Buffer.from(lrange, "latin1"));
    assert.equal(f.next(), ParseStatus.Ok);
    assert.equal(f.reply.elemStart.length, 3);
  });

  test("a push never streams: it is out-of-band data, not a reply", () => {
    const push = `>3\r\n${bulk("message")}${bulk("ch")}${bulk(big(40, "p"))}`;
    const { out, error } = streamReplies(chunks(Buffer.from(push, "latin1"), 1), 10);
    assert.equal(error, "");
    assert.deepEqual(out, [{ type: ">", bytes: push, pieces: 0 }]);
  });

  test("streaming starts only with the large bulk; small elements before it go in its first piece", () => {
    const f = new RespReplyFramer({ streamMin: 10 });
    f.feed(Buffer.from(`*4\r\n:1\r\n${bulk("small")}$20\r\naaaa`, "latin1"));
    assert.equal(f.next(), ParseStatus.NeedMore);
    assert.ok(f.streamable);
    assert.ok(f.piece());
    assert.equal(
      f.reply.buf.toString("latin1", f.pieceStart, f.pieceEnd),
      `*4\r\n:1\r\n${bulk("small")}$20\r\naaaa`,
    );
    assert.equal(f.piece(), false, "nothing more until bytes arrive");
    f.feed(Buffer.from(`${big(16, "a")}\r\n:9`, "latin1"));
    assert.equal(f.next(), ParseStatus.NeedMore);
    assert.ok(f.piece());
    // The bulk's CRLF was checked and goes with the framed bytes; the partial line waits.
    assert.equal(f.reply.buf.toString("latin1", f.pieceStart, f.pieceEnd), `${big(16, "a")}\r\n`);
    f.feed(Buffer.from("9\r\n+next\r\n", "latin1"));
    assert.equal(f.next(), ParseStatus.Ok);
    assert.equal(f.reply.buf.toString("latin1", f.reply.frameStart, f.reply.frameEnd), ":99\r\n");
    assert.equal(f.next(), ParseStatus.Ok);
    assert.equal(f.reply.type, 0x2b);
  });

  test("a nested bulk not followed by CRLF breaks the framer after its pieces", () => {
    const f = new RespReplyFramer({ streamMin: 10 });
    f.feed(Buffer.from("*2\r\n$20\r\n0123456789", "latin1"));
    assert.equal(f.next(), ParseStatus.NeedMore);
    assert.ok(f.piece());
    f.feed(Buffer.from("0123456789XY", "latin1"));
    assert.equal(f.next(), ParseStatus.Error);
  });

  test("property: any chunking of any replies; pieces + frame equal each reply", () => {
    let streamed = 0;
    fc.assert(
      fc.property(
        fc.array(anyReply, { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 12 }),
        (replies, sizes, streamMin) => {
          const buf = Buffer.from(replies.join(""), "latin1");
          const cut = cutBy(buf, sizes);
          const { out, error } = streamReplies(cut, streamMin);
          assert.equal(error, "");
          assert.deepEqual(
            out.map((r) => r.bytes),
            replies,
          );
          for (const r of out) {
            if (r.type === ">") assert.equal(r.pieces, 0);
            if (r.pieces > 0) streamed++;
          }
        },
      ),
      { numRuns: 500 },
    );
    assert.ok(streamed > 50, `only ${streamed} replies streamed`);
  });
});

describe("aggregates of many small elements in pieces", () => {
  // An LRANGE 0 -1 of small items, an HGETALL-like map, a SMEMBERS-like set, and an EXEC of
  // many small replies: no bulk reaches streamMin, but each reply is many times streamMin.
  const items = (n: number, p: string) => Array.from({ length: n }, (_, i) => bulk(`${p}${i}`));
  const lrange = `*40\r\n${items(40, "item:").join("")}`;
  const hgetall = `%20\r\n${items(40, "f").join("")}`;
  const smembers = `~30\r\n${items(30, "m").join("")}`;
  const exec = `*20\r\n${Array.from({ length: 20 }, (_, i) => (i % 2 ? `:${i}\r\n` : "+OK\r\n")).join("")}`;
  const input = Buffer.from(`${lrange}${hgetall}${smembers}${exec}+OK\r\n`, "latin1");
  const expected = [
    ["*", lrange],
    ["%", hgetall],
    ["~", smembers],
    ["*", exec],
    ["+", "+OK\r\n"],
  ];

  test("whole, byte by byte, split at every offset: pieces + frame are each reply's bytes", () => {
    for (const { name, chunks } of chunkings(input)) {
      const { out, error } = streamReplies(chunks, 32);
      assert.equal(error, "", name);
      assert.deepEqual(
        out.map((r) => [r.type, r.bytes]),
        expected,
        name,
      );
      if (name === "whole")
        assert.deepEqual(
          out.map((r) => r.pieces),
          [0, 0, 0, 0, 0],
          name,
        );
      if (name === "byte by byte") {
        // After the first streamMin bytes, every framed line goes out as it completes.
        for (const r of out.slice(0, 4)) assert.ok(r.pieces > 10, `${name}: ${r.pieces} pieces`);
      }
    }
  });

  test("a piece holds whole elements framed so far and a bulk's received data, never a partial line", () => {
    const f = new RespReplyFramer({ streamMin: 20 });
    const head = `*5\r\n${bulk("aaaaaaa")}${bulk("bbbbbbb")}`; // 4 + 13 + 13 bytes
    f.feed(Buffer.from(`${head}$7\r\ncc`, "latin1"));
    assert.equal(f.next(), ParseStatus.NeedMore);
    assert.ok(f.streamable);
    assert.ok(f.piece());
    assert.equal(f.reply.buf.toString("latin1", f.pieceStart, f.pieceEnd), `${head}$7\r\ncc`);
    assert.equal(f.piece(), false, "nothing more until bytes arrive");
    f.feed(Buffer.from("ccccc\r\n$3\r", "latin1"));
    assert.equal(f.next(), ParseStatus.NeedMore);
    assert.ok(f.piece());
    // The bulk's rest and CRLF were framed; the partial header line waits for its '\n'.
    assert.equal(f.reply.buf.toString("latin1", f.pieceStart, f.pieceEnd), "ccccc\r\n");
    f.feed(Buffer.from("\nxyz\r\n:5\r\n", "latin1"));
    assert.equal(f.next(), ParseStatus.Ok);
    const r = f.reply;
    assert.equal(r.type, 0x2a);
    assert.equal(r.count, 5);
    assert.deepEqual(r.elemStart, [], "no element ranges after pieces");
    assert.equal(r.buf.toString("latin1", r.frameStart, r.frameEnd), "$3\r\nxyz\r\n:5\r\n");
  });

  test("below streamMin bytes received the reply is not streamable; a push never is", () => {
    const f = new RespReplyFramer({ streamMin: 20 });
    f.feed(Buffer.from(`*5\r\n${bulk("aaaaaaa")}`, "latin1"));
    assert.equal(f.next(), ParseStatus.NeedMore);
    assert.equal(f.streamable, false);
    const push = `>40\r\n${items(40, "p").join("")}`;
    const { out } = streamReplies(chunks(Buffer.from(push, "latin1"), 1), 8);
    assert.deepEqual(out, [{ type: ">", bytes: push, pieces: 0 }]);
  });

  test("the proxy's framer: an EXEC of many small replies streams after the skipped +OK +QUEUED", () => {
    const n = 40_000;
    const execReply = `*${n}\r\n${Array.from({ length: n }, (_, i) => bulk(`value:${i}`)).join("")}`;
    const bytes = Buffer.from(`+OK\r\n${"+QUEUED\r\n".repeat(n)}${execReply}`, "latin1");
    assert.ok(execReply.length > 2 * STREAM_MIN);
    const f = new RedisReplyFramer();
    const out: Buffer[] = [];
    let pieces = 0;
    let done = false;
    for (const c of chunks(bytes, 64 * 1024)) {
      f.feed(c);
      if (f.next(expectToken(n + 1))) {
        out.push(Buffer.from(f.buf.subarray(f.start, f.end)));
        done = true;
        assert.equal(f.isError, false);
      } else if (f.streamable) {
        while (f.piece()) {
          assert.ok(f.end - f.start <= STREAM_MIN + 64 * 1024, "a piece is bounded by a read");
          out.push(Buffer.from(f.buf.subarray(f.start, f.end)));
          pieces++;
        }
      }
    }
    assert.ok(done);
    assert.ok(pieces >= 2, `${pieces} pieces`);
    assert.equal(Buffer.concat(out).toString("latin1"), execReply);
  });

  test("property: many-small-element aggregates stream; pieces + frame equal each reply", () => {
    const small = fc.oneof(
      fc.stringMatching(/^[a-z]{0,6}$/).map((s) => bulk(s)),
      fc.integer({ min: -999, max: 999 }).map((n) => `:${n}\r\n`),
      fc.constantFrom("+OK\r\n", "$-1\r\n", "_\r\n", "*0\r\n", `*2\r\n${bulk("k")}:1\r\n`),
    );
    const aggregate = fc
      .tuple(fc.constantFrom("*", "~", "%", ">"), fc.array(small, { minLength: 2, maxLength: 60 }))
      .map(([t, els]) => {
        const e = t === "%" && els.length % 2 ? els.slice(1) : els;
        return { bytes: `${t}${t === "%" ? e.length / 2 : e.length}\r\n${e.join("")}`, agg: true };
      });
    let streamed = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            aggregate,
            anyReply.map((bytes) => ({ bytes, agg: false })),
          ),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 8, max: 64 }),
        (replies, sizes, streamMin) => {
          const buf = Buffer.from(replies.map((r) => r.bytes).join(""), "latin1");
          const cut = cutBy(buf, sizes);
          const { out, error } = streamReplies(cut, streamMin);
          assert.equal(error, "");
          assert.deepEqual(
            out.map((r) => r.bytes),
            replies.map((r) => r.bytes),
          );
          const maxRead = Math.max(...sizes);
          for (const [i, r] of out.entries()) {
            if (r.type === ">") assert.equal(r.pieces, 0);
            else if (replies[i].agg && r.bytes.length > streamMin + maxRead + 16) {
              // Long enough that streamMin bytes were framed before its last read arrived.
              assert.ok(r.pieces > 0, `${JSON.stringify(r.bytes)} held whole`);
              streamed++;
            }
          }
        },
      ),
      { numRuns: 500 },
    );
    assert.ok(streamed > 100, `only ${streamed} many-small-element replies streamed`);
  });
});
