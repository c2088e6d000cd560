/**
 * OutBuffer's hand-written writers (digit loop, byte loops for short copies) must write exactly
 * what Buffer#write / String(n) would, on both sides of the short-copy threshold and across
 * chunk boundaries.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { OutBuffer } from "../../../src/util/out-buffer.js";

function drain(o: OutBuffer): string {
  return o.take()?.toString("latin1") ?? "";
}

describe("OutBuffer chunks", () => {
  test("nothing is allocated before the first write; the first chunk is small, later ones 64 KiB", () => {
    const o = new OutBuffer();
    assert.equal(o.buf.length, 0);
    assert.equal(o.take(), null);
    o.ascii("+OK\r\n");
    assert.equal(o.buf.length, 4096);
    assert.equal(drain(o), "+OK\r\n");
    // Fill the first chunk past its end: the bytes pending move to a 64 KiB chunk.
    const big = Buffer.alloc(5000, 0x61);
    o.ascii("$5000\r\n");
    o.raw(big);
    assert.equal(o.buf.length, 64 * 1024);
    assert.equal(drain(o), `$5000\r\n${"a".repeat(5000)}`);
  });
});

describe("OutBuffer writers", () => {
  test("decimal: edge values", () => {
    const o = new OutBuffer();
    const vals = [0, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 - 1];
    vals.push(Number.MAX_SAFE_INTEGER, 10 ** 15, 10 ** 15 - 1);
    for (const v of vals) o.decimal(v);
    assert.equal(drain(o), vals.map(String).join(""));
  });

  test("property: decimal writes String(n) for every safe non-negative integer", () => {
    const o = new OutBuffer();
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        o.decimal(n);
        assert.equal(drain(o), String(n));
      }),
      { numRuns: 2000 },
    );
  });

  test("property: ascii, bytes and raw of any length write their bytes in order", () => {
    const o = new OutBuffer();
    const piece = fc.oneof(
      fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) }),
      fc.uint8Array({ maxLength: 100 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.nat(8), (pieces, off) => {
        let want = "";
        for (const p of pieces) {
          if (typeof p === "string") {
            o.ascii(p);
            want += p;
          } else {
            const src = Buffer.concat([Buffer.alloc(off, 0x21), p]);
            if (off % 2 === 0) o.bytes(src, off, src.length);
            else o.raw(p);
            want += Buffer.from(p).toString("latin1");
          }
        }
        assert.equal(drain(o), want);
      }),
      { numRuns: 500 },
    );
  });

  test("writes that cross into a new chunk keep the pending bytes", () => {
    const o = new OutBuffer();
    const big = Buffer.alloc(40_000, 0x61);
    o.bytes(big, 0, big.length);
    o.ascii("VALUE ");
    o.bytes(big, 0, big.length); // past 64 KiB: a new chunk with the pending bytes copied
    o.decimal(12345);
    const out = drain(o);
    assert.equal(out.length, 80_000 + 6 + 5);
    assert.equal(out.slice(40_000, 40_006), "VALUE ");
    assert.equal(out.slice(-5), "12345");
  });

  test("a batch of any size is grown geometrically: few reallocations, bytes kept in order", () => {
    const o = new OutBuffer();
    const value = Buffer.alloc(100, 0x62);
    let chunks = 1;
    let last = o.buf;
    // 10 MB in one batch, as a 60,000-key multi-get or an unread client's replies make.
    for (let i = 0; i < 100_000; i++) {
      o.ascii("VALUE k 0 100\r\n");
      o.bytes(value, 0, value.length);
      o.crlf();
      if (o.buf !== last) {
        chunks++;
        last = o.buf;
      }
    }
    // Doubling from 64 KiB to about 20 MB: a handful of chunks, not one per append.
    assert.ok(chunks <= 12, `${chunks} chunks`);
    const out = o.take();
    assert.equal(out?.length, 100_000 * 117);
    assert.equal(out?.subarray(117 * 99_999, 117 * 99_999 + 15).toString(), "VALUE k 0 100\r\n");
    // The grown chunk is not kept: the next batch starts in a fresh 64 KiB one.
    o.ascii("END\r\n");
    assert.equal(o.buf.length, 64 * 1024);
    assert.equal(drain(o), "END\r\n");
  });

  test("bytes handed out or viewed before a growth are never overwritten", () => {
    const o = new OutBuffer();
    o.ascii("first");
    const at = o.pos;
    o.ascii("kept");
    const view = o.buf.subarray(at, at + 4); // as the backend keeps a request for retry
    const batch = o.take();
    o.bytes(Buffer.alloc(200_000, 0x63), 0, 200_000); // grows past the first chunk
    o.ascii("tail");
    assert.equal(batch?.toString(), "firstkept");
    assert.equal(view.toString(), "kept");
    const rest = drain(o);
    assert.equal(rest.length, 200_004);
    assert.equal(rest.slice(-4), "tail");
  });
});
