import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { normalizeExptime, REALTIME_MAXDELTA } from "../../../src/store/expiry.js";
import { murmur3 } from "../../../src/store/hash.js";
import { addU64, formatU64, parseU64, subFloorU64 } from "../../../src/store/u64.js";

const M64 = (1n << 64n) - 1n;
const split = (v: bigint): [number, number] => [Number(v >> 32n), Number(v & 0xffffffffn)];
const join = (hi: number, lo: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);

describe("murmur3", () => {
  test("reference vectors (MurmurHash3_x86_32)", () => {
    const h = (s: string, seed: number) => {
      const b = Buffer.from(s);
      return murmur3(b, 0, b.length, seed);
    };
    assert.equal(h("", 0), 0);
    assert.equal(h("", 1), 0x514e28b7);
    assert.equal(h("hello", 0), 0x248bfa47);
    assert.equal(h("Hello, world!", 1234), 0xfaf6cdb3);
    assert.equal(h("The quick brown fox jumps over the lazy dog", 0), 0x2e4ff723);
  });
  test("depends only on the range", () => {
    const b = Buffer.from("xxabcdefgyy");
    assert.equal(murmur3(b, 2, 9, 5), murmur3(Buffer.from("abcdefg"), 0, 7, 5));
  });
});

describe("u64 decimal", () => {
  test("parse edge cases", () => {
    const out = { hi: 0, lo: 0 };
    const p = (s: string) =>
      parseU64(Buffer.from(s), 0, s.length, out) ? join(out.hi, out.lo) : null;
    assert.equal(p("0"), 0n);
    assert.equal(p("18446744073709551615"), M64);
    assert.equal(p("18446744073709551616"), null);
    assert.equal(p("99999999999999999999999"), null);
    assert.equal(p(""), null);
    assert.equal(p("12a"), null);
    assert.equal(p("-1"), null);
    assert.equal(p("42  "), 42n);
  });
  test("parse reads a value as memcached's safe_strtoull", () => {
    const out = { hi: 0, lo: 0 };
    const p = (s: string) =>
      parseU64(Buffer.from(s, "latin1"), 0, s.length, out) ? join(out.hi, out.lo) : null;
    assert.equal(p(" 42"), 42n); // strtoull skips leading whitespace
    assert.equal(p("\t\r\n\v\f 7"), 7n);
    assert.equal(p("12 34"), 12n); // the digits end at whitespace
    assert.equal(p("12\t"), 12n);
    assert.equal(p("7\u0000xy"), 7n); // ... or at a NUL (the end of the C string)
    assert.equal(p("+5"), 5n);
    assert.equal(p("-0"), 0n);
    assert.equal(p("  "), null);
    assert.equal(p("-"), null);
    assert.equal(p(" -1"), null); // 2^64-1 has its top bit set: refused with a '-'
    assert.equal(p("-9223372036854775808"), null); // 2^63
    assert.equal(p("-9223372036854775809"), (1n << 63n) - 1n);
    assert.equal(p("-18446744073709551615"), 1n);
    assert.equal(p("12abc"), null);
    assert.equal(p("0x10"), null);
  });
  test("format, add, sub agree with BigInt", () => {
    const scratch = new Uint8Array(20);
    const out = { hi: 0, lo: 0 };
    fc.assert(
      fc.property(fc.bigInt(0n, M64), fc.bigInt(0n, M64), (a, b) => {
        const [ah, al] = split(a);
        const [bh, bl] = split(b);
        const n = formatU64(ah, al, scratch);
        assert.equal(Buffer.from(scratch.subarray(0, n)).toString(), a.toString());
        assert.ok(parseU64(scratch, 0, n, out));
        assert.equal(join(out.hi, out.lo), a);
        addU64(ah, al, bh, bl, out);
        assert.equal(join(out.hi, out.lo), (a + b) & M64);
        subFloorU64(ah, al, bh, bl, out);
        assert.equal(join(out.hi, out.lo), a > b ? a - b : 0n);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("normalizeExptime (protocol.txt Expiration times)", () => {
  test("0, relative, absolute, negative", () => {
    const now = 1_700_000_000;
    assert.equal(normalizeExptime(0, now), 0);
    assert.equal(normalizeExptime(10, now), now + 10);
    assert.equal(normalizeExptime(REALTIME_MAXDELTA, now), now + REALTIME_MAXDELTA);
    assert.equal(normalizeExptime(now + 100, now), now + 100);
    assert.ok(normalizeExptime(REALTIME_MAXDELTA + 1, now) < 0); // absolute time in the past
    assert.ok(normalizeExptime(-1, now) < 0);
  });
});
