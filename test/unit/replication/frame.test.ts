import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  decodeAuth,
  decodeError,
  decodeHello,
  decodeSync,
  decodeU64Frame,
  encodeAuth,
  encodeEmpty,
  encodeError,
  encodeHello,
  encodeSync,
  encodeU64Frame,
  Frame,
  FrameParser,
  FrameType,
  ParseStatus,
  RecOp,
  Record,
  readRecord,
  recordFrameLength,
  writeRecord,
} from "../../../src/node/replication/frame.js";
import { assertSplitInvariant } from "../../helpers/split.js";

type Plain = Record_ | { type: number; body: string } | { error: string };
interface Record_ {
  type: number;
  op: number;
  ver: string;
  flags: number;
  exptime: number;
  key: string;
  value: string;
}

/** Adapts the parser to the split helper: frames become plain values. */
function target(max = 1 << 20) {
  const p = new FrameParser(max);
  const f = new Frame();
  const r = new Record();
  let failed = false;
  return {
    feed: (c: Buffer) => p.feed(c),
    drain(): Plain[] {
      const out: Plain[] = [];
      while (!failed) {
        const st = p.next(f);
        if (st === ParseStatus.NeedMore) break;
        if (st === ParseStatus.Error) {
          failed = true;
          out.push({ error: f.error });
          break;
        }
        const buf = p.buffer;
        if (f.type === FrameType.Rec || f.type === FrameType.Snap) {
          assert.ok(readRecord(buf, f, r));
          out.push({
            type: f.type,
            op: r.op,
            ver: `${r.verHi}:${r.verLo}`,
            flags: r.flags,
            exptime: r.exptime,
            key: buf.toString("latin1", r.keyStart, r.keyEnd),
            value: buf.toString("latin1", r.valueStart, r.valueEnd),
          });
        } else out.push({ type: f.type, body: buf.toString("hex", f.bodyStart, f.bodyEnd) });
      }
      return out;
    },
  };
}

function rec(
  type: FrameType,
  op: RecOp,
  key: string,
  value: string | null,
  hi = 1,
  lo = 2,
  flags = 3,
  exp = 4,
): Buffer {
  const k = Buffer.from(key, "latin1");
  const v = value === null ? null : Buffer.from(value, "latin1");
  const b = Buffer.alloc(recordFrameLength(k.length, v?.length ?? 0));
  const end = writeRecord(b, 0, type, op, hi, lo, flags, exp, k, 0, k.length, v, 0, v?.length ?? 0);
  assert.equal(end, b.length);
  return b;
}

const runId = Buffer.alloc(16, 7);

describe("replication frame codec", () => {
  test("control frames round-trip", () => {
    const nonce = Buffer.alloc(16, 9);
    const p = new FrameParser(1024);
    const f = new Frame();
    p.feed(
      Buffer.concat([
        encodeHello({ protocol: 1, nodeId: 1023, replPort: 11212, runId, nonce }),
        encodeAuth(Buffer.alloc(32, 5)),
        encodeSync(FrameType.Psync, { runId, offset: 2 ** 40 + 17 }),
        encodeU64Frame(FrameType.Ack, 2 ** 52 + 3),
        encodeEmpty(FrameType.SnapEnd),
        encodeError("authentication failed"),
      ]),
    );
    assert.equal(p.next(f), ParseStatus.Ok);
    assert.deepEqual(decodeHello(p.buffer, f), {
      protocol: 1,
      nodeId: 1023,
      replPort: 11212,
      runId,
      nonce,
    });
    assert.equal(p.next(f), ParseStatus.Ok);
    assert.deepEqual(decodeAuth(p.buffer, f), Buffer.alloc(32, 5));
    assert.equal(p.next(f), ParseStatus.Ok);
    assert.deepEqual(decodeSync(p.buffer, f), { runId, offset: 2 ** 40 + 17 });
    assert.equal(p.next(f), ParseStatus.Ok);
    assert.equal(decodeU64Frame(p.buffer, f), 2 ** 52 + 3);
    assert.equal(p.next(f), ParseStatus.Ok);
    assert.equal(f.type, FrameType.SnapEnd);
    assert.equal(f.bodyEnd - f.bodyStart, 0);
    assert.equal(p.next(f), ParseStatus.Ok);
    assert.equal(decodeError(p.buffer, f), "authentication failed");
    assert.equal(p.next(f), ParseStatus.NeedMore);
  });

  test("records: whole, byte by byte and split at every offset agree", () => {
    const input = Buffer.concat([
      rec(
        FrameType.Rec,
        RecOp.Set,
        "key1",
        "value with spaces\r\n",
        0xffffffff,
        0x80000000,
        0xfffffffe,
        2000000000,
      ),
      rec(FrameType.Snap, RecOp.Del, "k", null),
      rec(FrameType.Rec, RecOp.Flush, "", null, 9, 9, 0, 0),
      encodeU64Frame(FrameType.Ping, 1700000000000),
      rec(FrameType.Rec, RecOp.Set, "x".repeat(250), "y".repeat(300)),
    ]);
    const out = assertSplitInvariant(() => target(), input);
    assert.equal(out.length, 5);
    assert.deepEqual(out[0], {
      type: FrameType.Rec,
      op: RecOp.Set,
      ver: `${0xffffffff}:${0x80000000}`,
      flags: 0xfffffffe,
      exptime: 2000000000,
      key: "key1",
      value: "value with spaces\r\n",
    });
    assert.equal((out[1] as Record_).op, RecOp.Del);
    assert.equal((out[4] as Record_).key.length, 250);
  });

  test("a length past the limit or zero is an error, and parsing stops", () => {
    const big = Buffer.alloc(5);
    big.writeUInt32BE(2000, 0);
    assert.deepEqual(
      assertSplitInvariant(() => target(1000), big),
      [{ error: "frame length 2000 out of range" }],
    );
    const zero = Buffer.alloc(5);
    assert.deepEqual(
      assertSplitInvariant(() => target(), zero),
      [{ error: "frame length 0 out of range" }],
    );
  });

  test("a record whose lengths disagree with its frame is rejected", () => {
    const b = rec(FrameType.Rec, RecOp.Set, "abc", "defg");
    b.writeUInt32BE(3, 5 + 18); // claim a shorter value
    const p = new FrameParser(1024);
    const f = new Frame();
    p.feed(b);
    assert.equal(p.next(f), ParseStatus.Ok);
    assert.equal(readRecord(p.buffer, f, new Record()), false);
  });

  test("fuzz: any sequence of records survives any chunking", () => {
    const arbRec = fc.record({
      type: fc.constantFrom(FrameType.Rec, FrameType.Snap),
      op: fc.constantFrom(RecOp.Set, RecOp.Del, RecOp.Flush),
      hi: fc.nat({ max: 0xffffffff }),
      lo: fc.nat({ max: 0xffffffff }),
      flags: fc.nat({ max: 0xffffffff }),
      exp: fc.nat({ max: 0xffffffff }),
      key: fc.string({ minLength: 0, maxLength: 40 }),
      value: fc.string({ maxLength: 200 }),
    });
    fc.assert(
      fc.property(
        fc.array(arbRec, { maxLength: 8 }),
        fc.array(fc.nat({ max: 64 }), { maxLength: 20 }),
        (recs, cuts) => {
          const frames = recs.map((r) =>
            rec(
              r.type,
              r.op,
              Buffer.from(r.key).toString("latin1"),
              Buffer.from(r.value).toString("latin1"),
              r.hi,
              r.lo,
              r.flags,
              r.exp,
            ),
          );
          const input = Buffer.concat(frames);
          const whole = target();
          whole.feed(input);
          const expect = whole.drain();
          assert.equal(expect.length, recs.length);
          const t = target();
          const got: Plain[] = [];
          let at = 0;
          for (const c of cuts) {
            const end = Math.min(input.length, at + c);
            t.feed(input.subarray(at, end));
            got.push(...t.drain());
            at = end;
          }
          t.feed(input.subarray(at));
          got.push(...t.drain());
          assert.deepEqual(got, expect);
        },
      ),
      { numRuns: 300 },
    );
  });
});
