/**
 * Multi-key retrievals as one fragment per server (nc_memcache.c memcache_fragment): the plan
 * groups keys by server, and the merger puts the fragments' replies back in the client's key
 * order, checked against one simulated memcached holding every key.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type ClientState, ParseResult, type Plan } from "../../../src/proxy/driver.js";
import { memcacheDriver } from "../../../src/proxy/memcache/index.js";
import { BATCH_KEYS, GAT_LINE_LIMIT } from "../../../src/proxy/memcache/multiget.js";
import { buildTable } from "../../../src/proxy/router.js";
import { OutBuffer } from "../../../src/util/out-buffer.js";

const table = buildTable(
  { hash: "md5", distribution: "ketama", hash_tag: undefined },
  ["a:1", "b:1", "c:1", "d:1"].map((key) => ({ key, weight: 1, live: true })),
  1,
);
const shardOf = (b: Buffer, s: number, e: number) => table.picker.pick(b, s, e);
const state: ClientState = {
  authenticated: false,
  password: undefined,
  resp3: false,
  pinned: -1,
  shardOf,
  servers: 4,
};

function planOf(line: string): Plan {
  const p = memcacheDriver.newClientParser({ maxRequestBytes: 1 << 20 }, state);
  p.feed(Buffer.from(line, "latin1"));
  assert.equal(p.next(), ParseResult.Plan, p.errorReply?.toString());
  return p.plan as Plan;
}

/** What memcached answers to `get k1 k2 ...` from `store`: every hit occurrence, in order. */
function memcachedGet(store: Map<string, string>, keys: string[]): string {
  let out = "";
  for (const k of keys) {
    const v = store.get(k);
    if (v !== undefined) out += `VALUE ${k} 5 ${v.length}\r\n${v}\r\n`;
  }
  return `${out}END\r\n`;
}

/** The proxy's reply to `get <keys>` when every server holds `store`'s keys it owns. */
function throughProxy(store: Map<string, string>, keys: string[]): string {
  const plan = planOf(`get ${keys.join(" ")}\r\n`);
  if (plan.kind === "forward") {
    const owner = shardOf(plan.buf, plan.keyStart, plan.keyEnd);
    for (const k of keys) assert.equal(shardOf(Buffer.from(k), 0, k.length), owner);
    return memcachedGet(store, keys);
  }
  assert.equal(plan.kind, "split");
  if (plan.kind !== "split") return "";
  const seen = new Set<number>();
  plan.parts.forEach((part, i) => {
    const line = part.request.toString("latin1");
    assert.match(line, /^get [^\r\n]+\r\n$/);
    const partKeys = line.slice(4, -2).split(" ");
    const server = shardOf(part.keyBuf, part.keyStart, part.keyEnd);
    assert.ok(!seen.has(server), "one fragment per server");
    seen.add(server);
    for (const k of partKeys) assert.equal(shardOf(Buffer.from(k), 0, k.length), server);
    plan.merge.add(i, Buffer.from(memcachedGet(store, partKeys), "latin1"));
  });
  // Every key position is in exactly one fragment, in client order within it.
  const all = plan.parts.flatMap((p) => p.request.toString("latin1").slice(4, -2).split(" "));
  assert.deepEqual([...all].sort(), [...keys].sort());
  const out = new OutBuffer();
  plan.merge.write(out);
  return out.take()?.toString("latin1") ?? "";
}

describe("memcache multi-get: one fragment per server", () => {
  test("keys grouped per server, reply restored in key order (dups, misses)", () => {
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const store = new Map(keys.filter((_, i) => i % 3 !== 0).map((k) => [k, `v-${k}`]));
    const ask = [...keys, "k5", "k5", "nope", "k0", "k7"].reverse();
    const plan = planOf(`gets ${ask.join(" ")}\r\n`);
    assert.equal(plan.kind, "split");
    if (plan.kind === "split") assert.equal(plan.parts.length, 4, "40 keys reach all 4 servers");
    assert.equal(throughProxy(store, ask), memcachedGet(store, ask));
  });

  test("one server holding every key: the client's frame is forwarded as it is", () => {
    const k = "solo";
    const same = [k];
    for (let i = 0; same.length < 5 && i < 10_000; i++) {
      const c = `s${i}`;
      if (shardOf(Buffer.from(c), 0, c.length) === shardOf(Buffer.from(k), 0, k.length))
        same.push(c);
    }
    const plan = planOf(`get ${same.join(" ")}\r\n`);
    assert.equal(plan.kind, "forward");
    if (plan.kind === "forward") assert.equal(plan.idempotent, false);
  });

  test("gat keeps its exptime in every fragment and stays within 2048 bytes", () => {
    const keys = Array.from({ length: 80 }, (_, i) => `gk:${String(i).padStart(20, "0")}`);
    const line = `gat 300 ${keys.join(" ")}\r\n`;
    assert.ok(line.length <= GAT_LINE_LIMIT);
    const plan = planOf(line);
    assert.equal(plan.kind, "split");
    if (plan.kind !== "split") return;
    for (const p of plan.parts) {
      assert.match(p.request.toString("latin1"), /^gat 300 gk:/);
      assert.ok(p.request.length <= GAT_LINE_LIMIT);
    }
  });

  test("a failed fragment or a backend error fails the whole request, by name", () => {
    const keys = Array.from({ length: 20 }, (_, i) => `f${i}`);
    const plan = planOf(`get ${keys.join(" ")}\r\n`);
    assert.equal(plan.kind, "split");
    if (plan.kind !== "split") return;
    plan.merge.add(0, Buffer.from("END\r\n"));
    plan.merge.fail(1, "keepcache: backend 127.0.0.1:1 timed out after 5 ms");
    const out = new OutBuffer();
    plan.merge.write(out);
    assert.equal(
      out.take()?.toString(),
      "SERVER_ERROR keepcache: backend 127.0.0.1:1 timed out after 5 ms\r\n",
    );
    const again = planOf(`get ${keys.join(" ")}\r\n`);
    if (again.kind !== "split") return;
    again.merge.add(0, Buffer.from("SERVER_ERROR out of memory\r\n"));
    for (let i = 1; i < again.parts.length; i++) again.merge.add(i, Buffer.from("END\r\n"));
    again.merge.write(out);
    assert.equal(out.take()?.toString(), "SERVER_ERROR out of memory\r\n");
  });

  test("merged replies equal one memcached's (property: keys, dups, misses)", () => {
    const key = fc.stringMatching(/^[a-z0-9:]{1,12}$/);
    fc.assert(
      fc.property(
        fc.array(key, { minLength: 2, maxLength: 60 }),
        fc.array(key, { maxLength: 40 }),
        (ask, held) => {
          const store = new Map(held.map((k) => [k, `${k}=${k.length}`]));
          for (let i = 0; i < ask.length; i += 3) store.set(ask[i], `hit ${i}`);
          assert.equal(throughProxy(store, ask), memcachedGet(store, ask));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("memcache multi-get of more than BATCH_KEYS keys: one batch per next()", () => {
  type Split = Extract<Plan, { kind: "split" }>;

  /** Answers every part of `plan` as memcached would from `store`. */
  function answer(plan: Split, store: Map<string, string>): void {
    plan.parts.forEach((part, i) => {
      const partKeys = part.request.toString("latin1").slice(4, -2).split(" ");
      plan.merge.add(i, Buffer.from(memcachedGet(store, partKeys), "latin1"));
    });
  }

  /** Every batch of `get <keys>`, fed `between` after the first batch (a pipelined request). */
  function batches(keys: string[], between = ""): { plans: Split[]; after: Plan | undefined } {
    const p = memcacheDriver.newClientParser({ maxRequestBytes: 1 << 20 }, state);
    p.feed(Buffer.from(`get ${keys.join(" ")}\r\n`, "latin1"));
    const plans: Split[] = [];
    for (;;) {
      assert.equal(p.next(), ParseResult.Plan);
      const plan = p.plan as Plan;
      assert.equal(plan.kind, "split");
      plans.push(plan as Split);
      // The parser's buffer is reused by later reads: the batches must not depend on it.
      if (plans.length === 1 && between !== "") p.feed(Buffer.from(between, "latin1"));
      if (p.more !== true) break;
    }
    const after = p.next() === ParseResult.Plan ? p.plan : undefined;
    return { plans, after };
  }

  test("the batches' replies, written in order, are memcached's one reply", () => {
    const keys = Array.from({ length: 3 * BATCH_KEYS + 7 }, (_, i) => `big:${i % 2000}`);
    const store = new Map(keys.filter((_, i) => i % 5 !== 0).map((k) => [k, `v=${k}`]));
    const { plans, after } = batches(keys, `get ${"x ".repeat(3000)}y\r\nversion\r\n`);
    assert.equal(plans.length, 4);
    const out = new OutBuffer();
    for (const plan of plans) {
      answer(plan, store);
      plan.merge.write(out);
    }
    assert.equal(out.take()?.toString("latin1"), memcachedGet(store, keys));
    // The request fed meanwhile comes next, whole: a large get of its own.
    assert.equal(after?.kind, "split");
  });

  test("a pool of one server gets the batches too, one part each", () => {
    const one: ClientState = { ...state, shardOf: () => 0, servers: 1 };
    const p = memcacheDriver.newClientParser({ maxRequestBytes: 1 << 20 }, one);
    const keys = Array.from({ length: 2 * BATCH_KEYS }, (_, i) => `one:${i}`);
    p.feed(Buffer.from(`gets ${keys.join(" ")}\r\n`, "latin1"));
    for (const more of [true, false]) {
      assert.equal(p.next(), ParseResult.Plan);
      const plan = p.plan as Split;
      assert.equal(plan.kind, "split");
      assert.equal(plan.parts.length, 1);
      assert.match(plan.parts[0].request.toString("latin1"), /^gets one:/);
      assert.equal(p.more, more);
    }
  });

  test("a batch that fails ends the reply with its error; later batches write nothing", () => {
    const keys = Array.from({ length: 3 * BATCH_KEYS }, (_, i) => `f:${i}`);
    const store = new Map(keys.map((k) => [k, "v"]));
    const { plans } = batches(keys);
    const out = new OutBuffer();
    answer(plans[0], store);
    plans[0].merge.write(out);
    const first = out.take()?.toString("latin1") ?? "";
    assert.equal(first, memcachedGet(store, keys.slice(0, BATCH_KEYS)).slice(0, -5));
    plans[1].merge.fail(0, "keepcache: backend 127.0.0.1:1 timed out after 5 ms");
    plans[1].merge.write(out);
    answer(plans[2], store);
    plans[2].merge.write(out);
    assert.equal(
      out.take()?.toString("latin1"),
      "SERVER_ERROR keepcache: backend 127.0.0.1:1 timed out after 5 ms\r\n",
    );
  });
});
