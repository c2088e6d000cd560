import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Handle } from "../../../src/store/types.js";
import { del, get, keyOf, mkStore, setv } from "./helpers.js";

const T = 1_700_000_000;

/** Walks the whole store in steps of `count`, calling `between` after each step. */
function walk(
  s: ReturnType<typeof mkStore>,
  count: number,
  between: (step: number) => void,
): Map<string, number> {
  const seen = new Map<string, number>();
  const cb = (h: Handle) => {
    const key = keyOf(s, h);
    seen.set(key, (seen.get(key) ?? 0) + 1);
  };
  let cursor = 0;
  let step = 0;
  do {
    cursor = s.scan(cursor, count, T, cb);
    between(step++);
    assert.ok(step < 100_000, "scan must terminate");
  } while (cursor !== 0);
  return seen;
}

describe("scan cursor", () => {
  test("every item exactly once while others are overwritten, deleted and added", () => {
    const s = mkStore();
    for (let i = 0; i < 3000; i++) setv(s, `stable:${i}`, "v", T);
    for (let i = 0; i < 1000; i++) setv(s, `doomed:${i}`, "v", T);
    let added = 0;
    const seen = walk(s, 50, (step) => {
      for (let j = 0; j < 10; j++) {
        setv(s, `stable:${(step * 37 + j * 101) % 3000}`, `w${step}`, T); // overwrite
        del(s, `doomed:${(step * 10 + j) % 1000}`, T);
        setv(s, `new:${added++}`, "n", T);
      }
    });
    for (let i = 0; i < 3000; i++) assert.equal(seen.get(`stable:${i}`), 1, `stable:${i}`);
    for (const [key, c] of seen) assert.equal(c, 1, key);
  });

  test("while the index grows: every item at least once, none twice", () => {
    const s = mkStore({ hashPower: 6 });
    for (let i = 0; i < 90; i++) setv(s, `stable:${i}`, "v", T);
    let added = 0;
    let expanded = false;
    const seen = walk(s, 5, () => {
      for (let j = 0; j < 40; j++) setv(s, `new:${added++}`, "n", T);
      expanded ||= s.stats(T).hashIsExpanding;
    });
    assert.ok(expanded);
    assert.ok(s.stats(T).hashPowerLevel > 8);
    for (let i = 0; i < 90; i++) assert.ok((seen.get(`stable:${i}`) ?? 0) >= 1, `stable:${i}`);
    for (const [key, c] of seen) assert.equal(c, 1, key);
  });

  test("skips expired items and tombstones unless asked", () => {
    const s = mkStore();
    setv(s, "live", "v", T);
    setv(s, "exp", "v", T, T + 1);
    s.delete(Buffer.from("gone"), 0, 4, T, { verHi: 0, verLo: 1, ttl: 100 });
    const keys: string[] = [];
    let c = 0;
    do c = s.scan(c, 10, T + 2, (h) => keys.push(keyOf(s, h)));
    while (c !== 0);
    assert.deepEqual(keys, ["live"]);
    const all: string[] = [];
    do c = s.scan(c, 10, T + 2, (h) => all.push(keyOf(s, h)), true);
    while (c !== 0);
    assert.deepEqual(all.sort(), ["gone", "live"]);
  });
});

describe("index growth", () => {
  test("incremental expansion keeps every key reachable", () => {
    const s = mkStore({ hashPower: 4 });
    let sawExpanding = false;
    for (let i = 0; i < 20_000; i++) {
      setv(s, `k${i}`, `${i}`, T);
      if (i % 97 === 0) {
        sawExpanding ||= s.stats(T).hashIsExpanding;
        assert.equal(get(s, `k${i >> 1}`, T), `${i >> 1}`);
      }
    }
    assert.ok(sawExpanding);
    const st = s.stats(T);
    assert.ok(st.hashPowerLevel >= 14);
    assert.equal(st.hashBytes >= 4 << st.hashPowerLevel, true);
    for (let i = 0; i < 20_000; i++) assert.equal(get(s, `k${i}`, T), `${i}`);
    for (let i = 0; i < 20_000; i += 2) assert.ok(del(s, `k${i}`, T));
    assert.equal(s.stats(T).currItems, 10_000);
    const sizes = s.sizes(T);
    let total = 0;
    for (const [bucket, n] of sizes) {
      assert.equal(bucket % 32, 0);
      total += n;
    }
    assert.equal(total, 10_000);
  });
});
