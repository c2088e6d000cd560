import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AffinityTable } from "../../../src/tcp/persistence.js";
import { effectiveWeight } from "../../../src/tcp/slowstart.js";

describe("persistence table", () => {
  test("remembers a client until the timeout, refreshed on use", () => {
    const t = new AffinityTable(1000);
    t.set("1.2.3.4", "a", 0);
    assert.equal(t.get("1.2.3.4", 999), "a");
    t.set("1.2.3.4", "a", 999);
    assert.equal(t.get("1.2.3.4", 1500), "a");
    assert.equal(t.get("1.2.3.4", 1999), undefined);
    assert.equal(t.size, 0);
  });

  test("is bounded: the least recently used entry goes first", () => {
    const t = new AffinityTable(60_000, 3);
    t.set("a", "s", 0);
    t.set("b", "s", 0);
    t.set("c", "s", 0);
    t.set("a", "s", 1); // touch a
    t.set("d", "s", 2);
    assert.equal(t.size, 3);
    assert.equal(t.get("b", 3), undefined);
    assert.equal(t.get("a", 3), "s");
  });

  test("sweep drops expired entries", () => {
    const t = new AffinityTable(10);
    for (let i = 0; i < 100; i++) t.set(`c${i}`, "s", i);
    t.sweep(60); // entries set at 0..50 expire at 10..60: 51 dropped
    assert.equal(t.size, 49);
  });
});

describe("slowstart", () => {
  test("ramps linearly to the full weight, quantised to 1/16", () => {
    const w = (t: number) => effectiveWeight(8, 1000, 1600, 1000 + t);
    assert.ok(w(0) > 0 && w(0) <= 0.5);
    assert.equal(w(400), 2);
    assert.equal(w(800), 4);
    assert.equal(w(1200), 6);
    assert.equal(w(1600), 8);
    assert.equal(w(99_999), 8);
    let prev = 0;
    for (let t = 0; t <= 1600; t += 50) {
      assert.ok(w(t) >= prev);
      prev = w(t);
    }
  });

  test("does not apply to servers up since start or with slowstart 0", () => {
    assert.equal(effectiveWeight(5, 0, 1000, 10), 5);
    assert.equal(effectiveWeight(5, 100, 0, 101), 5);
    assert.equal(effectiveWeight(0, 100, 1000, 101), 0);
  });
});
