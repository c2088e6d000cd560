/**
 * Large values in pieces: the request parser offers a request whose big last argument is
 * still arriving and then hands out the rest as pieces; the reply framer hands out a big
 * top-level bulk as it arrives. Every byte comes out exactly once, in order, whatever the
 * chunking, and the framing after the value resumes where it should.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ParseStatus, RespRequestParser } from "../../../src/protocol/resp/parser.js";
import { RespReplyFramer } from "../../../src/protocol/resp/reply.js";
import { expectToken, RedisReplyFramer } from "../../../src/proxy/redis/reply-framer.js";

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
