/**
 * What crosses to worker processes and to the dashboard: a cluster table's slot owners as runs
 * (ownerRanges → fromRanges, the wire form), a map's ranges per shard (SlotMap.rangesOf), and
 * the slots a node reports moving in its CLUSTER NODES text (parseMigrations; the lines are
 * redis-server 7's own format, commands/cluster-nodes.md).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseMigrations } from "../../../src/proxy/cluster/migrations.js";
import { keySlot, SLOTS } from "../../../src/proxy/cluster/slot.js";
import { SlotMap } from "../../../src/proxy/cluster/slot-map.js";
import { fromRanges, ownerRanges } from "../../../src/proxy/cluster/table.js";
import type { PoolTarget } from "../../../src/proxy/target.js";

const servers = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ label: `10.0.0.${i}:7000` }) as unknown as PoolTarget);

/** An owner array of `cuts` runs over `n` servers (-1: unknown). */
const owners = fc
  .tuple(
    fc.integer({ min: 1, max: 6 }),
    fc.uniqueArray(fc.integer({ min: 1, max: SLOTS - 1 }), { maxLength: 40 }),
    fc.array(fc.integer({ min: -1, max: 5 }), { minLength: 41, maxLength: 41 }),
  )
  .map(([n, cuts, idx]) => {
    const owner = new Int32Array(SLOTS);
    const at = [0, ...cuts.sort((a, b) => a - b), SLOTS];
    for (let i = 0; i + 1 < at.length; i++) owner.fill(Math.min(idx[i], n - 1), at[i], at[i + 1]);
    return { n, owner };
  });

describe("cluster table wire form and status pieces", () => {
  test("property: fromRanges(ownerRanges(owner)) routes every slot as owner does", () => {
    fc.assert(
      fc.property(owners, ({ n, owner }) => {
        const runs = ownerRanges(owner);
        // Runs: consecutive, covering, each one owner (so no longer than needed).
        assert.equal(runs[0], 0);
        assert.equal(runs[runs.length - 2], SLOTS - 1);
        for (let i = 3; i < runs.length; i += 3) {
          assert.equal(runs[i], runs[i - 2] + 1);
          assert.notEqual(runs[i + 2], runs[i - 1]);
        }
        const t = fromRanges(runs, servers(n), 1);
        assert.deepEqual(t.owner, owner);
        assert.equal(t.picker.pick(Buffer.from("foo"), 0, 3), owner[keySlot(Buffer.from("foo"))]);
      }),
    );
  });

  test("an index beyond the servers reads as unknown", () => {
    const t = fromRanges([0, 99, 0, 100, SLOTS - 1, 7], servers(2), 1);
    assert.equal(t.owner[5], 0);
    assert.equal(t.owner[100], -1);
  });

  test("SlotMap.rangesOf: each shard's runs, in slot order", () => {
    const shard = (port: number) => ({
      master: { host: "10.0.0.1", port, id: "", health: "online" },
      replicas: [],
    });
    const a = shard(7000);
    const b = shard(7001);
    const map = SlotMap.build([
      { start: 0, end: 99, shard: a },
      { start: 100, end: 100, shard: b },
      { start: 101, end: 8000, shard: a },
      { start: 9000, end: SLOTS - 1, shard: b },
    ]);
    assert.deepEqual(map.rangesOf(0), [
      [0, 99],
      [101, 8000],
    ]);
    assert.deepEqual(map.rangesOf(1), [
      [100, 100],
      [9000, SLOTS - 1],
    ]);
  });

  test("parseMigrations: the asked node's own migrating and importing slots", () => {
    const text = [
      "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 [5461-<-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1] [93->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]",
      "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@40002 master - 0 1426238316232 2 connected 5461-10922",
      "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@40003,host3 master - 0 1426238318243 3 connected 10923-16383",
      "",
    ].join("\n");
    assert.deepEqual(parseMigrations(text, "127.0.0.1"), [
      { slot: 5461, from: "127.0.0.1:30002", to: "127.0.0.1:30001" },
      { slot: 93, from: "127.0.0.1:30001", to: "127.0.0.1:30003" },
    ]);
    // Only the asked node's line counts; an empty ip is the asked host.
    const other = text
      .replace("myself,master", "master")
      .replace("127.0.0.1:30002@40002 master", ":30002@40002 myself,master");
    assert.deepEqual(parseMigrations(other, "10.1.1.1"), []);
    assert.deepEqual(parseMigrations("", "h"), []);
  });
});
