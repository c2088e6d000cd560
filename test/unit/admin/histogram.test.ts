import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { Histogram, LATENCY_BUCKETS_MS } from "../../../src/metrics/histogram.js";

describe("Histogram", () => {
  test("observations land in the first bucket whose bound is >= the value (Prometheus le)", () => {
    const h = new Histogram([1, 5, 10]);
    for (const v of [0, 1, 1.0001, 5, 9, 10, 11, 1e9]) h.observe(v);
    assert.deepEqual(Array.from(h.counts), [2, 2, 2, 2]);
    const s = h.snapshot();
    assert.deepEqual(s.cumulative, [2, 4, 6, 8]);
    assert.equal(s.count, 8);
    assert.equal(s.sum, 0 + 1 + 1.0001 + 5 + 9 + 10 + 11 + 1e9);
  });

  test("rejects unsorted or empty bounds", () => {
    assert.throws(() => new Histogram([]));
    assert.throws(() => new Histogram([1, 1]));
    assert.throws(() => new Histogram([2, 1]));
  });

  test("quantile interpolates inside the bucket and is NaN when empty", () => {
    const h = new Histogram([1, 2, 4]);
    assert.ok(Number.isNaN(h.quantile(0.5)));
    for (let i = 0; i < 100; i++) h.observe(1.5);
    const p50 = h.quantile(0.5);
    assert.ok(p50 > 1 && p50 <= 2, `p50 ${p50}`);
    h.observe(100);
    assert.equal(h.quantile(1), 4);
  });

  test("merge adds counts; reset clears", () => {
    const a = new Histogram();
    const b = new Histogram();
    a.observe(0.2);
    b.observe(0.2);
    b.observe(3000);
    a.merge(b);
    assert.equal(a.count, 3);
    assert.equal(a.snapshot().cumulative.at(-1), 3);
    a.reset();
    assert.equal(a.count, 0);
    assert.equal(a.sum, 0);
    assert.ok(a.counts.every((c) => c === 0));
    assert.throws(() => a.merge(new Histogram([1])));
  });

  test("property: cumulative counts are a non-decreasing staircase ending at count", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e5, noNaN: true }), { maxLength: 200 }),
        (xs) => {
          const h = new Histogram();
          for (const x of xs) h.observe(x);
          const s = h.snapshot();
          assert.equal(s.cumulative.length, LATENCY_BUCKETS_MS.length + 1);
          for (let i = 1; i < s.cumulative.length; i++) {
            assert.ok(s.cumulative[i] >= s.cumulative[i - 1]);
          }
          assert.equal(s.cumulative.at(-1), xs.length);
          for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) {
            assert.equal(s.cumulative[i], xs.filter((x) => x <= LATENCY_BUCKETS_MS[i]).length);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
