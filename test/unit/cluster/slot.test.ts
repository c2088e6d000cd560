import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { crc16, keySlot, SLOTS } from "../../../src/proxy/cluster/slot.js";

const slot = (s: string) => keySlot(Buffer.from(s));

describe("cluster key slots (cluster-spec.md)", () => {
  test("CRC16/XMODEM check value and known slots", () => {
    assert.equal(crc16(Buffer.from("123456789")), 0x31c3);
    assert.equal(slot("foo"), 12182);
    assert.equal(slot("bar"), 5061);
    assert.equal(slot(""), 0);
  });

  test("hash tag rules from the spec's examples", () => {
    assert.equal(slot("{user1000}.following"), slot("{user1000}.followers"));
    assert.equal(slot("{user1000}.following"), slot("user1000"));
    // Only the first '{' and the first '}' after it count.
    assert.equal(slot("foo{{bar}}zap"), slot("{bar"));
    assert.equal(slot("foo{bar}{zap}"), slot("bar"));
    // An empty tag hashes the whole key; no closing brace hashes the whole key.
    assert.equal(slot("foo{}{bar}"), keySlot(Buffer.from("foo{}{bar}")));
    assert.notEqual(slot("foo{}{bar}"), slot("bar"));
    assert.equal(slot("a{b"), crc16(Buffer.from("a{b")) % SLOTS);
  });

  test("respects the sub-range it is given", () => {
    const buf = Buffer.from("xx{tag}.yyzz");
    assert.equal(keySlot(buf, 2, 10), slot("{tag}.yy"));
  });

  test("property: keys sharing a non-empty tag share a slot; slots are in range", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((t) => !t.includes("}") && !t.includes("{")),
        fc.string().filter((p) => !p.includes("{")),
        fc.string(),
        fc.string(),
        (tag, prefix, s1, s2) => {
          const a = slot(`${prefix}{${tag}}${s1}`);
          const b = slot(`{${tag}}${s2}`);
          return a === b && a === slot(tag) && a >= 0 && a < SLOTS;
        },
      ),
    );
  });
});
