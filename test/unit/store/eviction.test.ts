import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NO_ITEM } from "../../../src/store/types.js";
import { get, k, mkStore, setv } from "./helpers.js";

const T = 1_700_000_000;
const MiB = 1 << 20;
const key = (i: number) => `key:${String(i).padStart(16, "0")}`; // 20 bytes
const val100 = Buffer.alloc(100, 0x76);

function capacityOf(s: ReturnType<typeof mkStore>, now: number): number {
  const cls = s.slabStats(now).filter((c) => c.items > 0);
  assert.equal(cls.length, 1);
  return cls[0].totalChunks;
}

describe("LRU eviction under a 2 MiB limit", () => {
  test("evicts the least recently used; a fetched item survives; counters", () => {
    const s = mkStore({ memoryLimitBytes: 2 * MiB, maxItemSize: 1000, lruBumpIntervalSeconds: 0 });
    let n = 0;
    while (s.stats(T).evictions === 0 && n < 100_000) setv(s, key(n++), val100, T);
    const cap = n - 1;
    assert.equal(cap, capacityOf(s, T));
    assert.ok(s.stats(T).totalMalloced <= 2 * MiB);
    // key(0) was evicted first; now fetch key(1) so that key(2) is the next victim.
    assert.equal(get(s, key(0), T), undefined);
    assert.equal(get(s, key(1), T), "v".repeat(100));
    setv(s, key(n++), val100, T);
    assert.equal(get(s, key(2), T), undefined);
    assert.equal(get(s, key(1), T), "v".repeat(100));
    const st = s.stats(T);
    assert.equal(st.evictions, 2);
    assert.equal(st.evictedUnfetched, 2);
    assert.equal(st.currItems, cap);
    for (let i = 0; i < 10; i++) setv(s, key(n++), val100, T);
    assert.equal(s.stats(T).evictions, 12);
    assert.equal(get(s, key(n - 1), T)?.length, 100);
    const cls = s.slabStats(T).find((c) => c.items > 0);
    assert.equal(cls?.evicted, 12);
  });

  test("expired items at the tail are reclaimed, not evicted", () => {
    const s = mkStore({ memoryLimitBytes: 2 * MiB, maxItemSize: 1000 });
    let n = 0;
    setv(s, key(n++), val100, T, T + 1);
    setv(s, key(n++), val100, T, T + 1);
    while (
      s.stats(T).totalPages < 2 ||
      (s.slabStats(T).find((c) => c.items > 0)?.freeChunksEnd ?? 1) > 0
    ) {
      setv(s, key(n++), val100, T);
      assert.ok(n < 100_000);
    }
    assert.equal(s.stats(T).evictions, 0);
    setv(s, key(n++), val100, T + 5);
    setv(s, key(n++), val100, T + 5);
    const st = s.stats(T + 5);
    assert.equal(st.evictions, 0);
    assert.equal(st.reclaimed, 2);
    assert.equal(st.expiredUnfetched, 2);
    setv(s, key(n++), val100, T + 5);
    assert.equal(s.stats(T + 5).evictions, 1);
  });
});

describe("slab page reassignment", () => {
  test("a new item size takes pages from the old one; the store does not calcify", () => {
    const s = mkStore({ memoryLimitBytes: 3 * MiB, maxItemSize: 4000 });
    let n = 0;
    for (; n < 30_000; n++) setv(s, key(n), val100, T);
    assert.equal(s.stats(T).totalPages, 3);
    const big = Buffer.alloc(2000, 0x42);
    // The big class has no page and nothing to evict: a page moves to it at once.
    assert.equal(setv(s, "big:0", big, T + 1), 0);
    assert.equal(get(s, "big:0", T + 1)?.length, 2000);
    assert.equal(s.stats(T + 1).slabsMoved, 1);
    // The small class's oldest item is older than the big class's: age balancing moves more.
    for (let t = 2, b = 1; t < 10; t++)
      for (let i = 0; i < 600; i++) setv(s, `big:${b++}`, big, T + t);
    const slabs = s.slabStats(T + 10);
    const bigCls = slabs.find((c) => c.chunkSize >= 2048);
    const smallCls = slabs.find((c) => c.chunkSize < 256 && c.totalPages > 0);
    assert.equal(bigCls?.totalPages, 2);
    assert.equal(smallCls?.totalPages, 1);
    assert.equal(s.stats(T + 10).slabsMoved, 2);
    assert.equal(s.stats(T + 10).totalPages, 3);
    // One page of small items is still there (pages move whole, with what they hold).
    assert.ok((smallCls?.items ?? 0) > 5000);
    assert.equal(smallCls?.items, smallCls?.usedChunks);
    assert.equal(setv(s, "small:new", val100, T + 10), 0);
    assert.equal(s.find(k("small:new"), 0, 9, T + 10) !== NO_ITEM, true);
  });
});
