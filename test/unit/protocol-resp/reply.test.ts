import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ParseStatus } from "../../../src/protocol/resp/parser.js";
import { RespReplyFramer } from "../../../src/protocol/resp/reply.js";
import { value } from "./reply-arbitrary.js";
import { chunkings } from "./split.js";

interface Frame {
  frame: string;
  type: string;
  count: number;
  int: number;
  elems: string[];
  /** From bodyStart (after any attribute) to the frame's end. */
  body: string;
}

function frames(chunks: Buffer[]): { out: Frame[]; error: string } {
  const f = new RespReplyFramer();
  const out: Frame[] = [];
  for (const c of chunks) {
    f.feed(c);
    for (let guard = 0; guard < 100_000; guard++) {
      const st = f.next();
      if (st === ParseStatus.NeedMore) break;
      if (st === ParseStatus.Error) return { out, error: f.error };
      const r = f.reply;
      out.push({
        frame: r.buf.subarray(r.frameStart, r.frameEnd).toString("latin1"),
        type: String.fromCharCode(r.type),
        count: r.count,
        int: r.int,
        elems: r.elemStart.map((s, i) => r.buf.subarray(s, r.elemEnd[i]).toString("latin1")),
        body: r.buf.subarray(r.bodyStart, r.frameEnd).toString("latin1"),
      });
    }
  }
  return { out, error: "" };
}

function framesAll(input: string): { out: Frame[]; error: string } {
  const buf = Buffer.from(input, "latin1");
  const first = frames([buf]);
  for (const { name, chunks } of chunkings(buf)) {
    assert.deepEqual(frames(chunks), first, `${JSON.stringify(input)}: ${name}`);
  }
  return first;
}

/** A random RESP3 value, encoded; `elems` are its top-level element encodings. */
type Enc = { text: string; elems: string[]; type: string };
const topAggregate: fc.Arbitrary<Enc> = fc
  .tuple(fc.constantFrom("*", "~", ">"), fc.array(value, { maxLength: 5 }))
  .map(([t, xs]) => ({ text: `${t}${xs.length}\r\n${xs.join("")}`, elems: xs, type: t }));

describe("RESP reply framer", () => {
  test("RESP2 replies, pipelined", () => {
    const { out, error } = framesAll(
      "+OK\r\n-ERR bad\r\n:-42\r\n$3\r\nfoo\r\n$-1\r\n*-1\r\n*0\r\n*3\r\n$1\r\na\r\n$-1\r\n:7\r\n",
    );
    assert.equal(error, "");
    assert.deepEqual(
      out.map((f) => [f.type, f.count]),
      [
        ["+", 0],
        ["-", 0],
        [":", 0],
        ["$", 3],
        ["$", -1],
        ["*", -1],
        ["*", 0],
        ["*", 3],
      ],
    );
    assert.equal(out[2].int, -42);
    assert.deepEqual(out[7].elems, ["$1\r\na\r\n", "$-1\r\n", ":7\r\n"]);
  });

  test("every RESP3 type, nested, with attributes", () => {
    const inner = "%2\r\n+k\r\n~2\r\n#t\r\n_\r\n(12345678901234567890\r\n*1\r\n,1.5\r\n";
    const attr = "|1\r\n+ttl\r\n:3\r\n";
    const input = `${attr}*4\r\n${inner}=9\r\ntxt:hello\r\n${attr}!3\r\nERR\r\n>2\r\n*0\r\n%0\r\n>1\r\n+p\r\n`;
    const { out, error } = framesAll(input);
    assert.equal(error, "");
    assert.equal(out.length, 2);
    assert.equal(out[0].type, "*");
    assert.equal(out[0].count, 4);
    assert.deepEqual(out[0].elems, [
      inner,
      "=9\r\ntxt:hello\r\n",
      `${attr}!3\r\nERR\r\n`,
      ">2\r\n*0\r\n%0\r\n",
    ]);
    assert.ok(out[0].frame.startsWith(attr));
    assert.equal(out[1].type, ">");
  });

  test("malformed replies fail instead of desyncing", () => {
    for (const bad of [
      "?x\r\n",
      ":1x\r\n",
      "$3\r\nabcd\r\n",
      "#x\r\n",
      "_x\r\n",
      "*-2\r\n",
      "+a\rb",
      "$-2\r\n",
    ]) {
      assert.notEqual(framesAll(bad).error, "", JSON.stringify(bad));
    }
  });

  test("deep nesting uses the explicit stack, bounded by maxDepth", () => {
    const deep = `${"*1\r\n".repeat(800)}:1\r\n`;
    assert.equal(frames([Buffer.from(deep)]).out.length, 1);
    const f = new RespReplyFramer({ maxDepth: 10 });
    f.feed(Buffer.from(deep));
    assert.equal(f.next(), ParseStatus.Error);
  });

  test("property: random nested RESP3 frames split anywhere frame exactly", () => {
    fc.assert(
      fc.property(fc.array(topAggregate, { minLength: 1, maxLength: 3 }), fc.nat(), (vals, cut) => {
        const text = vals.map((v) => v.text).join("");
        const buf = Buffer.from(text, "latin1");
        const k = buf.length ? cut % buf.length : 0;
        const { out, error } = frames([buf.subarray(0, k), buf.subarray(k)]);
        assert.equal(error, "");
        assert.deepEqual(
          out.map((f) => [f.frame, f.elems, f.type]),
          vals.map((v) => [v.text, v.elems, v.type]),
        );
      }),
      { numRuns: 300 },
    );
  });

  test("property: random or mutated bytes never throw and always progress", () => {
    const valid = topAggregate.map((v) => v.text);
    const mutated = fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([t, i, b]) => {
      const buf = Buffer.from(t, "latin1");
      if (buf.length) buf[i % buf.length] = b;
      return buf;
    });
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      mutated,
    );
    fc.assert(
      fc.property(input, fc.nat(), (buf, cut) => {
        const f = new RespReplyFramer({ maxLineLen: 32 });
        const k = buf.length ? cut % buf.length : 0;
        let consumed = 0;
        for (const c of [buf.subarray(0, k), buf.subarray(k)]) {
          f.feed(c);
          for (let i = 0; i <= buf.length; i++) {
            const st = f.next();
            if (st !== ParseStatus.Ok) break;
            assert.ok(f.reply.frameEnd > f.reply.frameStart);
            consumed += f.reply.frameEnd - f.reply.frameStart;
          }
        }
        assert.ok(consumed + f.pending <= buf.length);
      }),
      { numRuns: 500 },
    );
  });
});
