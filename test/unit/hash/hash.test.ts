import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import fc from "fast-check";
import { HASH_FUNCTIONS, hashByName } from "../../../src/proxy/hash/index.js";

const b = (s: string | number[]) => (typeof s === "string" ? Buffer.from(s) : Buffer.from(s));
const h = (name: string, s: string | number[]) => {
  const k = b(s);
  return hashByName(name)(k, 0, k.length);
};

/** Textbook one-at-a-time over UNSIGNED bytes (what the seed 004 Java snippet does). */
function oaatUnsigned(k: Buffer): number {
  let v = 0;
  for (const x of k) {
    v = (v + x) >>> 0;
    v = (v + (v << 10)) >>> 0;
    v = (v ^ (v >>> 6)) >>> 0;
  }
  v = (v + (v << 3)) >>> 0;
  v = (v ^ (v >>> 11)) >>> 0;
  return (v + (v << 15)) >>> 0;
}

describe("hash vectors", () => {
  test("one_at_a_time: seed 004's claim and the signed-char quirk", () => {
    // "oneAtATime("a") % 2 = 0, oneAtATime("b") % 2 = 1" (seed 004 blog post)
    assert.equal(h("one_at_a_time", "a") % 2, 0);
    assert.equal(h("one_at_a_time", "b") % 2, 1);
    assert.equal(h("one_at_a_time", "hello"), oaatUnsigned(b("hello")));
    // bytes >= 0x80 are sign-extended in twemproxy, so they differ from the unsigned version
    assert.notEqual(h("one_at_a_time", [0xc3, 0xa9]), oaatUnsigned(b([0xc3, 0xa9])));
  });
  test("md5: first digest word, little-endian", () => {
    assert.equal(h("md5", ""), 0xd98c1dd4);
    assert.equal(h("md5", "abc"), createHash("md5").update("abc").digest().readUInt32LE(0));
  });
  test("crc32a is CRC-32; crc32 is libmemcached's 15-bit slice of it", () => {
    assert.equal(h("crc32a", "123456789"), 0xcbf43926);
    assert.equal(h("crc32", "123456789"), (0xcbf43926 >>> 16) & 0x7fff);
    assert.equal(h("crc32a", ""), 0);
  });
  test("crc16: XMODEM table, unmasked uint32 register (nutcracker 0.5.0)", () => {
    assert.equal(h("crc16", "123456789") & 0xffff, 0x31c3);
    assert.ok(h("crc16", "123456789") > 0xffff, "high bits accumulate");
    assert.equal(h("crc16", "A"), 0x58e5);
  });
  test("fnv: 32-bit vectors and the 64-bit variants' truncation", () => {
    assert.equal(h("fnv1a_32", "a"), 0xe40c292c);
    assert.equal(h("fnv1_32", "a"), 0x050c5d7e);
    assert.equal(h("fnv1a_32", ""), 0x811c9dc5);
    // Low 32 bits of 64-bit FNV-1 "a" = 0xaf63bd4c8601b7be
    assert.equal(h("fnv1_64", "a"), 0x8601b7be);
    // 64-bit FNV-1 "foobar" = 0x340d8765a4dda9c2
    assert.equal(h("fnv1_64", "foobar"), 0xa4dda9c2);
    // fnv1a_64 runs in 32 bits from the start: NOT the low word of 0xaf63dc4c8601ec8c
    assert.equal(h("fnv1a_64", ""), 0x84222325);
    assert.equal(h("fnv1a_64", "a"), Math.imul(0x84222325 ^ 0x61, 0x1b3) >>> 0);
  });
  test("hsieh/murmur/jenkins: empty keys and regression values pinned by the e2e parity test", () => {
    assert.equal(h("hsieh", ""), 0);
    assert.equal(h("jenkins", ""), (0xdeadbeef + 13) >>> 0);
    assert.equal(h("murmur", ""), 0);
  });
  test("unknown name", () => {
    assert.throws(() => hashByName("sha1"), /unknown hash 'sha1'/);
  });
});

describe("hash properties", () => {
  test("every hash is a uint32 and reads only key[start..end)", () => {
    for (const [name, fn] of Object.entries(HASH_FUNCTIONS)) {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 64 }),
          fc.uint8Array({ maxLength: 8 }),
          fc.uint8Array({ maxLength: 8 }),
          (key, pre, post) => {
            const alone = Buffer.from(key);
            const inside = Buffer.concat([Buffer.from(pre), alone, Buffer.from(post)]);
            const a = fn(alone, 0, alone.length);
            const c = fn(inside, pre.length, pre.length + alone.length);
            return Number.isInteger(a) && a >= 0 && a <= 0xffffffff && a === c;
          },
        ),
        { numRuns: 200 },
      );
      assert.ok(name);
    }
  });
});
