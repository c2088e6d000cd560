/**
 * retain(): a socket that reads every chunk into one reused buffer (src/util/socket-reads.ts)
 * calls retain() after parsing, then overwrites the buffer with the next read. The parsers must
 * give exactly the results they give with fresh chunks, however the input is split.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  BinaryRequest,
  BinaryRequestParser,
  Opcode,
  ParseStatus,
} from "../../../src/protocol/memcache/binary.js";
import { ByteQueue } from "../../../src/protocol/memcache/input.js";
import { TextRequest, TextRequestParser } from "../../../src/protocol/memcache/text.js";
import { assertSplitInvariant, type SplitTarget } from "../../helpers/split.js";
import { type Parsed, snapshot, textTarget } from "./text-helpers.js";

/** One scratch buffer for every chunk, scribbled over after each retain(), as reads would. */
class Scratch {
  readonly buf = Buffer.alloc(1 << 16);
  put(c: Buffer): Buffer {
    assert.ok(c.length <= this.buf.length);
    this.buf.fill(0xee);
    c.copy(this.buf);
    return this.buf.subarray(0, c.length);
  }
  scribble(): void {
    this.buf.fill(0x5a);
  }
}

function reusedText(): SplitTarget<Parsed> {
  const p = new TextRequestParser({ maxValueBytes: 64 });
  const r = new TextRequest();
  const s = new Scratch();
  return {
    feed: (c) => p.feed(s.put(c)),
    drain: () => {
      const out: Parsed[] = [];
      for (let i = 0; i < 100_000; i++) {
        const st = p.next(r);
        if (st === ParseStatus.NeedMore) {
          p.retain();
          s.scribble();
          return out;
        }
        out.push(snapshot(p, r, st));
      }
      throw new Error("parser did not stop");
    },
  };
}

function binSnapshot(p: BinaryRequestParser, r: BinaryRequest, s: number): unknown {
  const b = p.buffer;
  const ok = s === ParseStatus.Ok;
  return {
    s,
    op: r.opcode,
    opaque: r.opaque,
    key: ok ? b.toString("latin1", r.keyStart, r.keyEnd) : "",
    value: ok ? b.toString("latin1", r.valueStart, r.valueEnd) : "",
    status: r.status,
  };
}

function binTarget(reuse: boolean): () => SplitTarget<unknown> {
  return () => {
    const p = new BinaryRequestParser({ maxValueBytes: 64 });
    const r = new BinaryRequest();
    const s = new Scratch();
    return {
      feed: (c) => p.feed(reuse ? s.put(c) : c),
      drain: () => {
        const out: unknown[] = [];
        for (let i = 0; i < 10_000; i++) {
          const st = p.next(r);
          if (st === ParseStatus.NeedMore) {
            if (reuse) {
              p.retain();
              s.scribble();
            }
            return out;
          }
          out.push(binSnapshot(p, r, st));
        }
        throw new Error("parser did not stop");
      },
    };
  };
}

function binReq(op: number, key: string, extras: number, value: string, opaque: number): Buffer {
  const h = Buffer.alloc(24);
  h[0] = 0x80;
  h[1] = op;
  h.writeUInt16BE(key.length, 2);
  h[4] = extras;
  h.writeUInt32BE(extras + key.length + value.length, 8);
  h.writeUInt32BE(opaque, 12);
  return Buffer.concat([h, Buffer.alloc(extras), Buffer.from(key), Buffer.from(value)]);
}

const TEXT = [
  "get a b c\r\n",
  "set k 1 2 3\r\nabc\r\n",
  `set big 0 0 100\r\n${"x".repeat(100)}\r\n`,
  "set bad 0 0 2\r\nabcd\r\n",
  "cas k 0 0 1 5 noreply\r\nx\r\n",
  "incr n 5\r\n",
  "mg k v c t O1 q\r\n",
  "ms k 2 T5 MS\r\nhi\r\n",
  "bogus\r\n",
  "gets a\n",
];

describe("ByteQueue.retain", () => {
  test("copies only a borrowed chunk's unconsumed bytes and reports how far they moved", () => {
    const q = new ByteQueue();
    const chunk = Buffer.from("0123456789");
    q.feed(chunk);
    q.consume(4);
    assert.equal(q.retain(), 4);
    assert.notEqual(q.buf, chunk);
    chunk.fill(0);
    assert.equal(q.buf.toString("latin1", q.start, q.end), "456789");
    // Owned already: nothing moves, nothing is copied.
    const owned = q.buf;
    assert.equal(q.retain(), 0);
    assert.equal(q.buf, owned);
    // Fully consumed: nothing to keep.
    const q2 = new ByteQueue();
    q2.feed(Buffer.from("ab"));
    q2.consume(2);
    assert.equal(q2.retain(), 0);
  });
});

describe("parsers over one reused read buffer", () => {
  test("text: every request, whole, byte by byte and split at every offset", () => {
    for (const input of [TEXT.join(""), ...TEXT]) {
      const b = Buffer.from(input, "latin1");
      const fresh = assertSplitInvariant(textTarget({ maxValueBytes: 64 }), b);
      assert.deepEqual(assertSplitInvariant(reusedText, b), fresh, JSON.stringify(input));
    }
  });

  test("binary: frames with values, whole, byte by byte and split at every offset", () => {
    const input = Buffer.concat([
      binReq(Opcode.Set, "key", 8, "value", 1),
      binReq(Opcode.Get, "key", 0, "", 2),
      binReq(Opcode.Set, "big", 8, "v".repeat(100), 3),
      binReq(Opcode.Noop, "", 0, "", 4),
    ]);
    const fresh = assertSplitInvariant(binTarget(false), input);
    assert.equal(fresh.length, 4);
    assert.deepEqual(assertSplitInvariant(binTarget(true), input), fresh);
  });

  test("property: random requests in random chunks parse the same with fresh or reused chunks", () => {
    const arb = fc.tuple(
      fc.array(fc.constantFrom(...TEXT), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 8 }),
    );
    fc.assert(
      fc.property(arb, ([reqs, cuts]) => {
        const input = Buffer.from(reqs.join(""), "latin1");
        const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
        const run = (t: SplitTarget<Parsed>) => {
          const out: Parsed[] = [];
          let prev = 0;
          for (const at of [...points, input.length]) {
            t.feed(input.subarray(prev, at));
            prev = at;
            out.push(...t.drain());
          }
          return out;
        };
        assert.deepEqual(run(reusedText()), run(textTarget({ maxValueBytes: 64 })()));
      }),
      { numRuns: 300 },
    );
  });
});
