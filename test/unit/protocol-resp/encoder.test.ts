import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  arrayHeader,
  bulk,
  codedError,
  encodeRequest,
  errorReply,
  headerLen,
  integer,
  nullArray,
  nullReply,
  simpleString,
  writeInteger,
} from "../../../src/protocol/resp/encoder.js";
import { ParseStatus, RespRequestParser } from "../../../src/protocol/resp/parser.js";
import { RespReplyFramer } from "../../../src/protocol/resp/reply.js";

const s = (b: Buffer) => b.toString("latin1");

describe("RESP encoder", () => {
  test("replies the proxy makes itself", () => {
    assert.equal(s(simpleString("OK")), "+OK\r\n");
    assert.equal(s(errorReply("bad\r\nthing")), "-ERR bad  thing\r\n");
    assert.equal(s(errorReply("-READONLY no")), "-READONLY no\r\n");
    assert.equal(s(codedError("MOVED", "1 h:2")), "-MOVED 1 h:2\r\n");
    assert.equal(s(integer(0)), ":0\r\n");
    assert.equal(s(integer(-1234567890123)), ":-1234567890123\r\n");
    assert.equal(s(bulk("héllo")), "$6\r\nh\xc3\xa9llo\r\n");
    assert.equal(s(bulk(Buffer.alloc(0))), "$0\r\n\r\n");
    assert.equal(s(nullReply()), "$-1\r\n");
    assert.equal(s(nullReply(true)), "_\r\n");
    assert.equal(s(nullArray()), "*-1\r\n");
    assert.equal(s(arrayHeader(3)), "*3\r\n");
  });

  test("writes into a caller's buffer at an offset", () => {
    const b = Buffer.alloc(20, 0x2e);
    const end = writeInteger(b, 2, 907);
    assert.equal(end, 2 + headerLen(907));
    assert.equal(s(b.subarray(0, end + 1)), "..:907\r\n.");
  });

  test("property: integers and requests round-trip through the framer and parser", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        const f = new RespReplyFramer();
        f.feed(integer(n));
        assert.equal(f.next(), ParseStatus.Ok);
        assert.equal(f.reply.int, n);
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 20 }), { minLength: 1, maxLength: 6 }),
        (args) => {
          const p1 = new RespRequestParser();
          const inline = Buffer.from(`${args.map((_, i) => `a${i}`).join(" ")}\r\n`);
          p1.feed(inline);
          assert.equal(p1.next(), ParseStatus.Ok);
          const enc = encodeRequest(p1.req);
          const p2 = new RespRequestParser();
          p2.feed(enc);
          assert.equal(p2.next(), ParseStatus.Ok);
          assert.equal(p2.req.argc, args.length);
          assert.equal(p2.req.frameEnd, enc.length);
        },
      ),
    );
  });
});
