import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { createAlgorithm } from "../../../src/tcp/algorithms/index.js";
import type { Candidate } from "../../../src/tcp/algorithms/types.js";

const ctx = { clientIp: "127.0.0.1" };

function tally(name: Parameters<typeof createAlgorithm>[0], c: Candidate[], n: number) {
  const a = createAlgorithm(name);
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = c[a.pick(c, ctx)].id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe("balance algorithms", () => {
  test("rr cycles through servers ignoring weight", () => {
    const c = [
      { id: "a", weight: 5, active: 0 },
      { id: "b", weight: 1, active: 0 },
      { id: "c", weight: 1, active: 0 },
    ];
    const a = createAlgorithm("rr");
    assert.deepEqual(
      Array.from({ length: 6 }, () => c[a.pick(c, ctx)].id),
      ["a", "b", "c", "a", "b", "c"],
    );
  });

  test("wrr is smooth (nginx order for 5,1,1) and exact over a cycle", () => {
    const c = [
      { id: "a", weight: 5, active: 0 },
      { id: "b", weight: 1, active: 0 },
      { id: "c", weight: 1, active: 0 },
    ];
    const a = createAlgorithm("wrr");
    assert.deepEqual(Array.from({ length: 7 }, () => c[a.pick(c, ctx)].id).join(""), "aabacaa");
  });

  test("wrr honours arbitrary weights exactly over whole cycles (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }),
        (ws) => {
          const c = ws.map((w, i) => ({ id: `s${i}`, weight: w, active: 0 }));
          const total = ws.reduce((x, y) => x + y, 0);
          const counts = tally("wrr", c, total * 3);
          for (const [i, w] of ws.entries()) assert.equal(counts.get(`s${i}`) ?? 0, w * 3);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("lc picks the least loaded, wlc weighs by weight", () => {
    const c = [
      { id: "a", weight: 4, active: 8 },
      { id: "b", weight: 1, active: 3 },
      { id: "c", weight: 1, active: 5 },
    ];
    assert.equal(c[createAlgorithm("lc").pick(c, ctx)].id, "b");
    // 8/4 = 2 < 3/1 = 3
    assert.equal(c[createAlgorithm("wlc").pick(c, ctx)].id, "a");
  });

  test("leastconn round-robins among equally loaded servers", () => {
    const c = [
      { id: "a", weight: 1, active: 0 },
      { id: "b", weight: 1, active: 0 },
      { id: "c", weight: 1, active: 7 },
    ];
    const a = createAlgorithm("leastconn");
    const picks = Array.from({ length: 4 }, () => c[a.pick(c, ctx)].id);
    assert.deepEqual(picks, ["a", "b", "a", "b"]);
  });

  test("lc keeps connections balanced when each pick adds a connection", () => {
    const c = [
      { id: "a", weight: 1, active: 0 },
      { id: "b", weight: 1, active: 0 },
      { id: "c", weight: 1, active: 0 },
    ];
    const a = createAlgorithm("lc");
    for (let i = 0; i < 30; i++) {
      const k = a.pick(c, ctx);
      c[k] = { ...c[k], active: c[k].active + 1 };
    }
    assert.deepEqual(
      c.map((x) => x.active),
      [10, 10, 10],
    );
  });

  test("sh is stable per client and spreads clients by weight", () => {
    const c = [
      { id: "10.0.0.1:80", weight: 3, active: 0 },
      { id: "10.0.0.2:80", weight: 1, active: 0 },
    ];
    const a = createAlgorithm("sh");
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) {
      const ip = `192.168.${i >> 8}.${i & 255}`;
      const k = a.pick(c, { clientIp: ip });
      assert.equal(a.pick(c, { clientIp: ip }), k);
      counts[k]++;
    }
    const share = counts[0] / 4000;
    assert.ok(share > 0.7 && share < 0.8, `share ${share}`);
    // Removing a server moves only its clients.
    const one = [c[0]];
    for (let i = 0; i < 200; i++) {
      const ip = `172.16.0.${i}`;
      if (a.pick(c, { clientIp: ip }) === 0) assert.equal(a.pick(one, { clientIp: ip }), 0);
    }
  });

  test("first always takes the first available server", () => {
    const c = [
      { id: "a", weight: 1, active: 3 },
      { id: "b", weight: 1, active: 0 },
    ];
    assert.equal(createAlgorithm("first").pick(c, ctx), 0);
  });
});
