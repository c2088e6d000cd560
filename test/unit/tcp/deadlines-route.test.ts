import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { createAlgorithm } from "../../../src/tcp/algorithms/index.js";
import { newServerCounters } from "../../../src/tcp/counters.js";
import { Deadlines } from "../../../src/tcp/deadlines.js";
import { eligible, pick, tiersOf, withFreeSlot } from "../../../src/tcp/route.js";
import type { RoutingSnapshot, ServerView } from "../../../src/tcp/snapshot.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Deadlines (one timer per service)", () => {
  test("fires due entries in order, skips cancelled ones, re-arms for the next", async () => {
    const d = new Deadlines();
    const fired: string[] = [];
    const t0 = Date.now();
    d.add(20, () => fired.push("a"), t0);
    const b = d.add(20, () => fired.push("b"), t0);
    d.add(60, () => fired.push("c"), t0);
    d.cancel(b);
    assert.equal(d.size, 2);
    const end = Date.now() + 2000;
    while (fired.length < 2 && Date.now() < end) await wait(5);
    assert.deepEqual(fired, ["a", "c"]);
    assert.ok(Date.now() - t0 >= 59, "c never fires early");
    assert.equal(d.size, 0);
    assert.equal(d.armedAt, undefined, "idle: no timer left");
  });

  test("clear() cancels everything", async () => {
    const d = new Deadlines();
    let n = 0;
    for (let i = 0; i < 100; i++) d.add(5, () => n++);
    d.clear();
    await wait(20);
    assert.equal(n, 0);
  });
});

function view(id: number, over: Partial<ServerView> = {}): ServerView {
  return {
    id: `s${id}`,
    host: "127.0.0.1",
    port: 1000 + id,
    weight: 1,
    up: true,
    backup: false,
    maxconn: 0,
    upSince: 0,
    ...over,
  };
}

function snap(servers: ServerView[]): RoutingSnapshot {
  return { version: 1, servers, sorry: undefined, slowstartMs: 0 };
}

describe("route", () => {
  test("backups only when no primary is eligible; tried servers are skipped", () => {
    const t = tiersOf(snap([view(1), view(2), view(3, { backup: true })]));
    assert.deepEqual(
      eligible(t, undefined).map((s) => s.id),
      ["s1", "s2"],
    );
    assert.deepEqual(
      eligible(t, new Set(["s1"])).map((s) => s.id),
      ["s2"],
    );
    assert.deepEqual(
      eligible(t, new Set(["s1", "s2"])).map((s) => s.id),
      ["s3"],
    );
    assert.deepEqual(eligible(t, new Set(["s1", "s2", "s3"])), []);
  });

  test("weight 0 and down servers are never eligible; maxconn filters full ones", () => {
    const t = tiersOf(
      snap([view(1, { weight: 0 }), view(2, { up: false }), view(3, { maxconn: 1 }), view(4)]),
    );
    assert.equal(t.limited, true);
    const counters = new Map([
      ["s3", { ...newServerCounters(), active: 1 }],
      ["s4", newServerCounters()],
    ]);
    const free = withFreeSlot(
      t,
      eligible(t, undefined),
      (id) => counters.get(id) ?? newServerCounters(),
    );
    assert.deepEqual(
      free.map((s) => s.id),
      ["s4"],
    );
  });

  test("pick over any eligible set returns one of them, in wrr proportions", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }),
        (ws) => {
          const s = snap(ws.map((w, i) => view(i, { weight: w })));
          const t = tiersOf(s);
          const algo = createAlgorithm("wrr");
          const total = ws.reduce((a, b) => a + b, 0);
          const got = new Map<string, number>();
          for (let i = 0; i < total * 4; i++) {
            const v = pick(algo, eligible(t, undefined), s, () => newServerCounters(), "", 0);
            got.set(v.id, (got.get(v.id) ?? 0) + 1);
          }
          ws.forEach((w, i) => {
            assert.equal(got.get(`s${i}`) ?? 0, w * 4);
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});
