/**
 * The retry of a failed multi-get fragment (dispatch.ts retries, driver.ts Merger.replan): the
 * merger regroups the fragment's keys under the table after the ejection, one fragment per new
 * owner, and the merged reply keeps the client's key order. Servers are simulated: each holds
 * the keys it owned before the ejection, so the dead server's keys become misses, as with
 * twemproxy's rehash.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  type ClientState,
  ParseResult,
  type Plan,
  type SplitPart,
} from "../../../src/proxy/driver.js";
import { memcacheDriver } from "../../../src/proxy/memcache/index.js";
import { buildTable, type RoutingTable } from "../../../src/proxy/router.js";
import { OutBuffer } from "../../../src/util/out-buffer.js";

const NAMES = ["a:1", "b:1", "c:1", "d:1"];

function tableWith(dead: number[]): RoutingTable {
  return buildTable(
    { hash: "md5", distribution: "ketama", hash_tag: undefined },
    NAMES.map((key, i) => ({ key, weight: 1, live: !dead.includes(i) })),
    1,
  );
}
const before = tableWith([]);
const ownerBefore = (k: string) => before.picker.pick(Buffer.from(k), 0, k.length);

function splitOf(line: string): Extract<Plan, { kind: "split" }> {
  const state: ClientState = {
    authenticated: false,
    password: undefined,
    resp3: false,
    pinned: -1,
    shardOf: (b, s, e) => before.picker.pick(b, s, e),
    servers: NAMES.length,
  };
  const p = memcacheDriver.newClientParser({ maxRequestBytes: 1 << 20 }, state);
  p.feed(Buffer.from(line, "latin1"));
  assert.equal(p.next(), ParseResult.Plan);
  const plan = p.plan as Plan;
  assert.equal(plan.kind, "split");
  return plan as Extract<Plan, { kind: "split" }>;
}

/** memcached's reply to a fragment from the server `server`, holding `store`'s keys it owned. */
function serve(
  store: Map<string, string>,
  server: number,
  part: SplitPart,
  prefix: number,
): Buffer {
  let out = "";
  for (const k of fragmentKeys(part, prefix)) {
    const v = store.get(k);
    if (v !== undefined && ownerBefore(k) === server) out += `VALUE ${k} 0 ${v.length}\r\n${v}\r\n`;
  }
  return Buffer.from(`${out}END\r\n`, "latin1");
}

function fragmentKeys(part: SplitPart, prefix: number): string[] {
  return part.request.toString("latin1").slice(prefix, -2).split(" ");
}

/**
 * Sends `keys` as one multi-get, fails the fragment that went to `dead`, re-plans it under the
 * table without `dead`, and returns the merged reply and the re-planned parts.
 */
function getWithFailure(
  store: Map<string, string>,
  keys: string[],
  dead: number,
  cmd = "get",
): { reply: string; replanned: SplitPart[] } {
  const prefix = cmd === "get" ? 4 : 8;
  const plan = splitOf(`${cmd} ${keys.join(" ")}\r\n`);
  const after = tableWith([dead]);
  let replanned: SplitPart[] = [];
  plan.parts.forEach((part, i) => {
    const server = before.picker.pick(part.keyBuf, part.keyStart, part.keyEnd);
    if (server !== dead) {
      plan.merge.add(i, serve(store, server, part, prefix));
      return;
    }
    const again = plan.merge.replan?.(i, after.picker);
    assert.ok(again !== undefined, "a failed fragment is re-planned");
    assert.equal(again.first, plan.parts.length, "new parts are numbered after the plan's");
    replanned = again.parts;
    const seen = new Set<number>();
    again.parts.forEach((np, k) => {
      assert.equal(np.keyBuf, np.request, "routed by a key inside the new fragment");
      assert.ok(np.request.toString("latin1").startsWith(`${cmd} `));
      const to = after.picker.pick(np.keyBuf, np.keyStart, np.keyEnd);
      assert.notEqual(to, dead);
      assert.ok(!seen.has(to), "one fragment per new owner");
      seen.add(to);
      for (const k of fragmentKeys(np, prefix))
        assert.equal(after.picker.pick(Buffer.from(k), 0, k.length), to, k);
      // The failed part's keys, regrouped: none lost, none added, client order kept.
      plan.merge.add(again.first + k, serve(store, to, np, prefix));
    });
    const moved = again.parts.flatMap((np) => fragmentKeys(np, prefix));
    assert.deepEqual(moved.sort(), fragmentKeys(part, prefix).sort());
  });
  const out = new OutBuffer();
  plan.merge.write(out);
  return { reply: out.take()?.toString("latin1") ?? "", replanned };
}

/** What the client should get: every hit not on `dead`, in its order, duplicates included. */
function expected(store: Map<string, string>, keys: string[], dead: number): string {
  let out = "";
  for (const k of keys) {
    const v = store.get(k);
    if (v !== undefined && ownerBefore(k) !== dead) out += `VALUE ${k} 0 ${v.length}\r\n${v}\r\n`;
  }
  return `${out}END\r\n`;
}

describe("retry: a failed multi-get fragment is re-planned by key", () => {
  test("the dead server's keys spread over the survivors; replies merged in key order", () => {
    const keys = Array.from({ length: 60 }, (_, i) => `key:${i}`);
    const store = new Map(keys.map((k) => [k, `v(${k})`]));
    const ask = [...keys, "key:3", "key:3", "missing"].reverse();
    for (let dead = 0; dead < NAMES.length; dead++) {
      const { reply, replanned } = getWithFailure(store, ask, dead);
      assert.equal(reply, expected(store, ask, dead), `server ${dead} dead`);
      assert.ok(replanned.length >= 2, "ketama spreads a dead server's keys over several");
    }
  });

  test("gat keeps its exptime in the re-planned fragments", () => {
    const keys = Array.from({ length: 30 }, (_, i) => `g${i}`);
    const store = new Map(keys.map((k) => [k, k]));
    const { reply, replanned } = getWithFailure(store, keys, 1, "gat 300");
    assert.equal(reply, expected(store, keys, 1));
    for (const p of replanned)
      assert.match(p.request.toString("latin1"), /^gat 300 g\d+( g\d+)*\r\n$/);
  });

  test("a fragment that replied, or one re-planned already, is not re-planned", () => {
    const plan = splitOf(`get ${Array.from({ length: 20 }, (_, i) => `r${i}`).join(" ")}\r\n`);
    plan.merge.add(0, Buffer.from("END\r\n"));
    assert.equal(plan.merge.replan?.(0, tableWith([0]).picker), undefined);
    const again = plan.merge.replan?.(1, tableWith([1]).picker);
    assert.ok(again !== undefined);
    assert.equal(plan.merge.replan?.(1, tableWith([1]).picker), undefined, "it owns no key now");
  });

  test("no live server: one group the pool fails by name (-1), the failure is the reply", () => {
    const keys = Array.from({ length: 12 }, (_, i) => `n${i}`);
    const plan = splitOf(`get ${keys.join(" ")}\r\n`);
    const none = tableWith([0, 1, 2, 3]);
    const again = plan.merge.replan?.(0, none.picker);
    assert.ok(again !== undefined);
    assert.equal(again.parts.length, 1);
    assert.equal(
      none.picker.pick(again.parts[0].keyBuf, again.parts[0].keyStart, again.parts[0].keyEnd),
      -1,
    );
    for (let i = 1; i < plan.parts.length; i++) plan.merge.add(i, Buffer.from("END\r\n"));
    plan.merge.fail(again.first, "keepcache: no live server in pool p");
    const out = new OutBuffer();
    plan.merge.write(out);
    assert.equal(out.take()?.toString(), "SERVER_ERROR keepcache: no live server in pool p\r\n");
  });

  test("property: any keys, any dead server, the merge equals the survivors' answer", () => {
    const key = fc.stringMatching(/^[a-z0-9:]{1,10}$/);
    fc.assert(
      fc.property(
        fc.array(key, { minLength: 2, maxLength: 50 }),
        fc.integer({ min: 0, max: NAMES.length - 1 }),
        (ask, dead) => {
          const store = new Map(ask.filter((_, i) => i % 3 !== 1).map((k) => [k, `=${k}`]));
          const owners = new Set(ask.map(ownerBefore));
          if (owners.size < 2) return; // forwarded whole, not split
          assert.equal(getWithFailure(store, ask, dead).reply, expected(store, ask, dead));
        },
      ),
      { numRuns: 150 },
    );
  });
});
