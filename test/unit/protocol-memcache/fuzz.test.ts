/**
 * Property fuzzing: on random bytes and on mutated valid requests, every parser never throws,
 * never loops (each next() call either consumes input or asks for more), keeps its buffer
 * bounded, and gives the same results however the input is chunked.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  BinaryRequest,
  BinaryRequestParser,
  ParseStatus,
} from "../../../src/protocol/memcache/binary.js";
import { TextResponse, TextResponseParser } from "../../../src/protocol/memcache/response.js";
import { TextRequest, TextRequestParser } from "../../../src/protocol/memcache/text.js";
import { textTarget } from "./text-helpers.js";

const VALID = [
  "get a b c\r\n",
  "set k 1 2 3\r\nabc\r\n",
  "cas k 0 0 1 5 noreply\r\nx\r\n",
  "incr n 5\r\n",
  "delete k noreply\r\n",
  "flush_all 5\r\n",
  "mg k v c t O1 q\r\n",
  "ms k 2 T5 MS\r\nhi\r\n",
  "ma n D3 J1 N0\r\n",
  "mn\r\n",
  "gat 10 a\r\n",
  "stats items\r\n",
];

const mutated = fc
  .tuple(
    fc.array(fc.constantFrom(...VALID), { minLength: 1, maxLength: 6 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  )
  .map(([reqs, muts]) => {
    const b = Buffer.from(reqs.join(""), "latin1");
    for (const [pos, byte] of muts) b[pos % b.length] = byte;
    return b;
  });

/** Feeds `input` in `cuts` pieces, calling next() until it asks for more; asserts progress. */
function drive(
  input: Buffer,
  cuts: number[],
  feed: (c: Buffer) => void,
  step: () => number,
  buffered: () => number,
): void {
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  for (const at of [...points, input.length]) {
    feed(input.subarray(prev, at));
    prev = at;
    for (let i = 0; ; i++) {
      assert.ok(i <= input.length + 1, "no progress");
      const before = buffered();
      const s = step();
      if (s === ParseStatus.NeedMore) break;
      assert.ok(buffered() < before || s === ParseStatus.Error, "Ok without consuming");
    }
    assert.ok(buffered() <= input.length);
  }
}

describe("parser fuzzing", () => {
  test("text requests: random and mutated input", () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
      mutated,
    );
    fc.assert(
      fc.property(arb, fc.array(fc.nat(), { maxLength: 5 }), (input, cuts) => {
        const p = new TextRequestParser({ maxValueBytes: 100 });
        const r = new TextRequest();
        drive(
          input,
          cuts,
          (c) => p.feed(c),
          () => p.next(r),
          () => p.buffered,
        );
      }),
      { numRuns: 400 },
    );
  });

  test("text requests: chunking never changes the results", () => {
    fc.assert(
      fc.property(mutated, fc.nat(), (input, cut) => {
        const at = cut % (input.length + 1);
        const whole = textTarget()();
        whole.feed(input);
        const split = textTarget()();
        split.feed(input.subarray(0, at));
        const got = split.drain();
        split.feed(input.subarray(at));
        got.push(...split.drain());
        assert.deepEqual(got, whole.drain());
      }),
      { numRuns: 300 },
    );
  });

  test("binary requests and text responses: random input", () => {
    const bin = fc.uint8Array({ maxLength: 200 }).map((u) => {
      const b = Buffer.from(u);
      if (b.length > 0) b[0] = 0x80;
      return b;
    });
    fc.assert(
      fc.property(bin, fc.array(fc.nat(), { maxLength: 5 }), (input, cuts) => {
        const p = new BinaryRequestParser({ maxValueBytes: 50 });
        const r = new BinaryRequest();
        drive(
          input,
          cuts,
          (c) => p.feed(c),
          () => p.next(r),
          () => p.buffered,
        );
        const t = new TextResponseParser({ maxValueBytes: 50 });
        const res = new TextResponse();
        drive(
          input,
          cuts,
          (c) => t.feed(c),
          () => t.next(res),
          () => t.buffered,
        );
      }),
      { numRuns: 300 },
    );
  });
});
