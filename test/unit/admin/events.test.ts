import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ActionRegistry } from "../../../src/admin/actions.js";
import { EventRing } from "../../../src/admin/events.js";
import { RateMeter } from "../../../src/admin/rate.js";
import { StatusHub } from "../../../src/admin/status.js";

describe("EventRing", () => {
  test("keeps the newest `capacity` events in order, numbered from 1", () => {
    let t = 1000;
    const r = new EventRing(3, () => t++);
    for (let i = 0; i < 5; i++) r.push({ kind: "health", subject: `s${i}`, message: "x" });
    const l = r.list();
    assert.deepEqual(
      l.map((e) => [e.seq, e.subject, e.time]),
      [
        [3, "s2", 1002],
        [4, "s3", 1003],
        [5, "s4", 1004],
      ],
    );
    assert.equal(l[0].level, "info");
    assert.deepEqual(
      r.list(4).map((e) => e.seq),
      [5],
    );
    assert.deepEqual(
      r.list(0, 2).map((e) => e.seq),
      [4, 5],
    );
    assert.equal(r.lastSeq, 5);
  });

  test("listeners get each event; a throwing listener does not stop the push", () => {
    const r = new EventRing(4);
    const got: number[] = [];
    r.subscribe(() => {
      throw new Error("closed stream");
    });
    const off = r.subscribe((e) => got.push(e.seq));
    r.push({ kind: "vrrp", subject: "VI_1", message: "BACKUP -> MASTER" });
    off();
    r.push({ kind: "vrrp", subject: "VI_1", message: "MASTER -> BACKUP" });
    assert.deepEqual(got, [1]);
  });

  test("property: list(after) equals the model's tail", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.nat(30), fc.nat(35), (cap, n, after) => {
        const r = new EventRing(cap);
        for (let i = 0; i < n; i++) r.push({ kind: "node", subject: "n", message: String(i) });
        const model = Array.from({ length: n }, (_, i) => i + 1)
          .slice(-cap)
          .filter((s) => s > after);
        assert.deepEqual(
          r.list(after).map((e) => e.seq),
          model,
        );
      }),
    );
  });
});

describe("StatusHub and ActionRegistry", () => {
  test("providers are unique per kind/name and undo removes them", () => {
    const hub = new StatusHub();
    const undo = hub.register({
      kind: "tcp",
      name: "mysql",
      snapshot: () => ({
        name: "mysql",
        listen: "0.0.0.0:3306",
        algorithm: "wrr",
        active: 0,
        connectionsTotal: 0,
        servers: [],
      }),
    });
    assert.throws(() =>
      hub.register({ kind: "tcp", name: "mysql", snapshot: () => ({}) as never }),
    );
    const extra = {
      version: "x",
      actions: { server: [], pool: [], vrrp: [], node: [] },
      lastEventSeq: 0,
    };
    assert.equal(hub.snapshot(extra).tcp.length, 1);
    undo();
    assert.equal(hub.snapshot(extra).tcp.length, 0);
  });

  test("a named handler wins over '*'; capabilities list both", async () => {
    const reg = new ActionRegistry();
    reg.register({ kind: "node", name: "*", handle: () => ({ message: "any" }) });
    const undo = reg.register({ kind: "node", name: "a", handle: () => ({ message: "a" }) });
    assert.equal((await reg.run({ kind: "node", node: "a", op: "stop" })).message, "a");
    assert.equal((await reg.run({ kind: "node", node: "b", op: "stop" })).message, "any");
    assert.deepEqual(reg.capabilities().node.sort(), ["*", "a"]);
    undo();
    assert.equal((await reg.run({ kind: "node", node: "a", op: "stop" })).message, "any");
    await assert.rejects(
      reg.run({ kind: "vrrp", instance: "VI_1", op: "backup" }),
      /no vrrp named/,
    );
  });
});

describe("RateMeter", () => {
  test("rate over at least the minimum window; counter resets start over", () => {
    const m = new RateMeter(1000);
    assert.equal(m.update(100, 0), 0);
    assert.equal(m.update(150, 500), 0); // window too short: previous rate
    assert.equal(m.update(300, 2000), 100);
    assert.equal(m.update(310, 2100), 100);
    assert.equal(m.update(5, 3000), 0);
  });
});
