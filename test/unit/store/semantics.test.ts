import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { normalizeExptime } from "../../../src/store/expiry.js";
import { IncrResult, NO_ITEM, StoreMode, StoreResult } from "../../../src/store/types.js";
import { del, get, k, mkStore, set, setv, valStr } from "./helpers.js";

const T = 1_700_000_000;

describe("storage modes (protocol.txt Storage commands)", () => {
  test("set / add / replace", () => {
    const s = mkStore();
    assert.equal(set(s, StoreMode.Add, "a", "1", T), StoreResult.Stored);
    assert.equal(set(s, StoreMode.Add, "a", "2", T), StoreResult.NotStored);
    assert.equal(get(s, "a", T), "1");
    assert.equal(set(s, StoreMode.Replace, "b", "x", T), StoreResult.NotStored);
    assert.equal(get(s, "b", T), undefined);
    assert.equal(set(s, StoreMode.Replace, "a", "3", T, { flags: 0xfffffffe }), StoreResult.Stored);
    const kb = k("a");
    const h = s.find(kb, 0, 1, T);
    assert.equal(valStr(s, h), "3");
    assert.equal(s.flags(h), 0xfffffffe);
    assert.equal(setv(s, "a", "", T), StoreResult.Stored);
    assert.equal(get(s, "a", T), "");
    assert.equal(s.stats(T).currItems, 1);
  });

  test("append / prepend keep flags and exptime, take the new version", () => {
    const s = mkStore();
    assert.equal(set(s, StoreMode.Append, "a", "x", T), StoreResult.NotStored);
    assert.equal(set(s, StoreMode.Prepend, "a", "x", T), StoreResult.NotStored);
    set(s, StoreMode.Set, "a", "mid", T, { flags: 5, exp: T + 100 });
    assert.equal(set(s, StoreMode.Append, "a", "END", T, { flags: 9, exp: 0, ver: [1, 2] }), 0);
    assert.equal(set(s, StoreMode.Prepend, "a", "<<", T, { flags: 9, exp: 0, ver: [3, 4] }), 0);
    const h = s.find(k("a"), 0, 1, T);
    assert.equal(valStr(s, h), "<<midEND");
    assert.equal(s.flags(h), 5);
    assert.equal(s.exptime(h), T + 100);
    assert.deepEqual([s.verHi(h), s.verLo(h)], [3, 4]);
    assert.equal(s.stats(T).currItems, 1);
  });

  test("cas: missing, mismatch, match", () => {
    const s = mkStore();
    assert.equal(set(s, StoreMode.Cas, "a", "v", T, { cas: [0, 1] }), StoreResult.NotFound);
    set(s, StoreMode.Set, "a", "v1", T, { ver: [0xffffffff, 7] });
    assert.equal(set(s, StoreMode.Cas, "a", "v2", T, { cas: [0xffffffff, 8] }), StoreResult.Exists);
    assert.equal(set(s, StoreMode.Cas, "a", "v2", T, { cas: [0xffffffff, 7], ver: [9, 9] }), 0);
    assert.equal(get(s, "a", T), "v2");
    assert.equal(set(s, StoreMode.Cas, "a", "v3", T, { cas: [0xffffffff, 7] }), StoreResult.Exists);
  });

  test("too large: rejected, and a failed set drops the stale value", () => {
    const s = mkStore({ maxItemSize: 1000 });
    setv(s, "a", "old", T);
    assert.equal(setv(s, "a", Buffer.alloc(1001), T), StoreResult.TooLarge);
    assert.equal(get(s, "a", T), undefined);
    assert.equal(setv(s, "a", Buffer.alloc(1000, 0x41), T), StoreResult.Stored);
    assert.equal(set(s, StoreMode.Append, "a", "x", T), StoreResult.TooLarge);
    assert.equal(get(s, "a", T)?.length, 1000);
  });

  test("keys are compared whole; keys share prefixes", () => {
    const s = mkStore();
    const big = Buffer.from("__key1__key12__");
    s.store(StoreMode.Set, big, 2, 6, k("one"), 0, 3, 0, 0, 0, 0, 0, 1, T);
    s.store(StoreMode.Set, big, 8, 13, k("twelve"), 0, 6, 0, 0, 0, 0, 0, 1, T);
    assert.equal(get(s, "key1", T), "one");
    assert.equal(get(s, "key12", T), "twelve");
    assert.equal(get(s, "key", T), undefined);
    const h = s.findAny(big, 8, 13);
    assert.ok(s.keyMatches(h, k("key12"), 0, 5));
    assert.ok(!s.keyMatches(h, k("key13"), 0, 5));
  });

  test("delete", () => {
    const s = mkStore();
    assert.equal(del(s, "a", T), false);
    setv(s, "a", "1", T);
    assert.equal(del(s, "a", T), true);
    assert.equal(get(s, "a", T), undefined);
    assert.equal(s.stats(T).currItems, 0);
  });
});

describe("expiry", () => {
  test("relative, absolute, negative, 0; lazy on access", () => {
    const s = mkStore();
    setv(s, "rel", "r", T, normalizeExptime(10, T));
    setv(s, "abs", "a", T, normalizeExptime(T + 5, T));
    setv(s, "never", "n", T, normalizeExptime(0, T));
    setv(s, "old", "o", T);
    assert.equal(setv(s, "old", "x", T, normalizeExptime(-1, T)), StoreResult.Stored);
    assert.equal(get(s, "old", T), undefined);
    assert.equal(get(s, "abs", T + 4), "a");
    assert.equal(get(s, "abs", T + 5), undefined);
    assert.equal(get(s, "rel", T + 9), "r");
    assert.equal(get(s, "rel", T + 10), undefined);
    assert.equal(get(s, "never", T + 100_000_000), "n");
    const st = s.stats(T + 100_000_000);
    assert.equal(st.getExpired, 2);
    assert.equal(st.currItems, 1);
  });

  test("touch moves the exptime; add succeeds over an expired item", () => {
    const s = mkStore();
    setv(s, "a", "1", T, T + 2);
    const h = s.find(k("a"), 0, 1, T);
    s.setExptime(h, T + 50);
    assert.equal(get(s, "a", T + 10), "1");
    assert.equal(set(s, StoreMode.Add, "a", "2", T + 50), StoreResult.Stored);
    assert.equal(get(s, "a", T + 50), "2");
  });
});

describe("flush_all", () => {
  test("immediate: everything before is gone, writes in the same second survive", () => {
    const s = mkStore();
    for (let i = 0; i < 50; i++) setv(s, `k${i}`, "v", T - 5);
    setv(s, "same", "v", T);
    s.flushAll(0, T);
    setv(s, "after", "w", T);
    assert.equal(get(s, "k3", T), undefined);
    assert.equal(get(s, "same", T), undefined);
    assert.equal(get(s, "after", T), "w");
    assert.equal(get(s, "after", T + 1), "w");
    assert.equal(set(s, StoreMode.Add, "k4", "new", T), StoreResult.Stored);
    assert.equal(get(s, "k4", T + 2), "new");
  });

  test("delayed: items stay until the delay passes, later writes survive", () => {
    const s = mkStore();
    setv(s, "a", "1", T);
    s.flushAll(10, T);
    setv(s, "b", "2", T + 5);
    assert.equal(get(s, "a", T + 9), "1");
    assert.equal(get(s, "b", T + 9), "2");
    assert.equal(get(s, "a", T + 10), undefined);
    assert.equal(get(s, "b", T + 10), undefined);
    setv(s, "c", "3", T + 10);
    assert.equal(get(s, "c", T + 11), "3");
    assert.equal(s.stats(T + 11).getFlushed, 2);
  });

  test("O(1): a flush of many items costs nothing until they are met", () => {
    const s = mkStore();
    for (let i = 0; i < 20_000; i++) setv(s, `k${i}`, "v", T);
    const t0 = performance.now();
    s.flushAll(0, T + 1);
    assert.ok(performance.now() - t0 < 5);
    let n = 0;
    let c = 0;
    do c = s.scan(c, 1000, T + 1, () => n++);
    while (c !== 0);
    assert.equal(n, 0);
  });
});

describe("tombstones", () => {
  test("find ignores them, findAny sees them, stats count them apart", () => {
    const s = mkStore();
    setv(s, "a", "1", T);
    const kb = k("a");
    assert.equal(s.delete(kb, 0, 1, T, { verHi: 5, verLo: 6, ttl: 30 }), true);
    assert.equal(s.find(kb, 0, 1, T), NO_ITEM);
    const h = s.findAny(kb, 0, 1);
    assert.notEqual(h, NO_ITEM);
    assert.ok(s.isTombstone(h));
    assert.deepEqual([s.verHi(h), s.verLo(h)], [5, 6]);
    let st = s.stats(T);
    assert.equal(st.currItems, 0);
    assert.equal(st.tombstones, 1);
    // A tombstone for a key that never existed.
    assert.equal(s.delete(k("zz"), 0, 2, T, { verHi: 0, verLo: 1, ttl: 30 }), false);
    assert.equal(s.stats(T).tombstones, 2);
    // Add over a tombstone stores; the tombstone goes.
    assert.equal(set(s, StoreMode.Add, "a", "2", T), StoreResult.Stored);
    assert.equal(get(s, "a", T), "2");
    assert.equal(set(s, StoreMode.Replace, "zz", "2", T), StoreResult.NotStored);
    // Tombstones expire.
    assert.equal(s.find(k("zz"), 0, 2, T + 30), NO_ITEM);
    assert.equal(s.findAny(k("zz"), 0, 2), NO_ITEM);
    st = s.stats(T + 30);
    assert.equal(st.tombstones, 0);
    assert.equal(st.currItems, 1);
  });
});

describe("incr/decr (protocol.txt Increment/Decrement)", () => {
  const incr = (s: ReturnType<typeof mkStore>, key: string, inc: boolean, d: bigint, now = T) => {
    const kb = k(key);
    const r = s.incrDecr(
      kb,
      0,
      kb.length,
      inc,
      Number(d >> 32n),
      Number(d & 0xffffffffn),
      now,
      0,
      9,
    );
    if (r !== IncrResult.Ok) return r;
    const o = s.incrOut;
    // A result that fits is written in place, padded with spaces (memcached do_add_delta).
    assert.equal(valStr(s, o.handle).trimEnd(), ((BigInt(o.hi) << 32n) | BigInt(o.lo)).toString());
    return (BigInt(o.hi) << 32n) | BigInt(o.lo);
  };

  test("basic, growth 99 -> 100, shrink 100 -> 99, flags and exptime kept", () => {
    const s = mkStore();
    assert.equal(incr(s, "n", true, 1n), IncrResult.NotFound);
    set(s, StoreMode.Set, "n", "99", T, { flags: 3, exp: T + 100 });
    assert.equal(incr(s, "n", true, 1n), 100n);
    assert.equal(get(s, "n", T), "100");
    assert.equal(incr(s, "n", false, 1n), 99n);
    assert.equal(get(s, "n", T), "99 ");
    assert.equal(incr(s, "n", true, 1n), 100n);
    assert.equal(get(s, "n", T), "100");
    const h = s.find(k("n"), 0, 1, T);
    assert.equal(s.flags(h), 3);
    assert.equal(s.exptime(h), T + 100);
    assert.equal(s.verLo(h), 9);
    assert.equal(s.stats(T).currItems, 1);
  });

  test("wraps at 2^64, decr floors at 0, non-numeric", () => {
    const s = mkStore();
    setv(s, "n", "18446744073709551615", T);
    assert.equal(incr(s, "n", true, 2n), 1n);
    // The 20-byte width stays: "1" and 19 spaces, as memcached stores it.
    assert.equal(get(s, "n", T), `1${" ".repeat(19)}`);
    assert.equal(incr(s, "n", false, 5n), 0n);
    assert.equal(incr(s, "n", true, (1n << 64n) - 1n), (1n << 64n) - 1n);
    setv(s, "t", "abc", T);
    assert.equal(incr(s, "t", true, 1n), IncrResult.NonNumeric);
    setv(s, "e", "", T);
    assert.equal(incr(s, "e", true, 1n), IncrResult.NonNumeric);
    setv(s, "big", "18446744073709551616", T);
    assert.equal(incr(s, "big", false, 1n), IncrResult.NonNumeric);
    setv(s, "sp", " 12", T);
    assert.equal(incr(s, "sp", true, 1n), 13n);
    assert.equal(get(s, "sp", T), "13 ");
    setv(s, "grow", " 9", T);
    assert.equal(incr(s, "grow", true, 991n), 1000n);
    assert.equal(get(s, "grow", T), "1000");
  });
});
