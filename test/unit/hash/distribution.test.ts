import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  buildRouter,
  hashTagRange,
  ketama,
  modula,
  random,
} from "../../../src/proxy/distribution/index.js";
import { ketamaContinuum } from "../../../src/proxy/distribution/ketama.js";
import { modulaSlots } from "../../../src/proxy/distribution/modula.js";
import { twemproxyOrder } from "../../../src/proxy/distribution/order.js";
import { hashFnv1a_64 } from "../../../src/proxy/hash/index.js";

const servers = (n: number, w = (_: number) => 1) =>
  Array.from({ length: n }, (_, i) => ({ name: `10.0.0.${i + 1}:6379`, weight: w(i) }));
const key = (s: string) => Buffer.from(s);
const keys = Array.from({ length: 2000 }, (_, i) => key(`user:${i}`));

describe("ketama (nc_ketama.c)", () => {
  test("160 points per server at equal weight, proportional with weights", () => {
    assert.equal(ketamaContinuum(servers(4)).values.length, 640);
    const c = ketamaContinuum(servers(3, (i) => [1, 2, 1][i]));
    const count = [0, 0, 0];
    for (const i of c.index) count[i]++;
    assert.deepEqual(count, [120, 240, 120]);
    for (let i = 1; i < c.values.length; i++) assert.ok(c.values[i - 1] <= c.values[i]);
  });
  test("ejecting a server moves only its keys", () => {
    const s = servers(4);
    const all = ketama.build(s, hashFnv1a_64);
    const ejected = ketama.build(
      s.map((x, i) => ({ ...x, live: i !== 2 })),
      hashFnv1a_64,
    );
    assert.equal(ejected.live, 3);
    for (const k of keys) {
      const before = all.pick(k, 0, k.length);
      const after = ejected.pick(k, 0, k.length);
      assert.notEqual(after, 2);
      if (before !== 2) assert.equal(after, before);
    }
  });
  test("no live server picks -1", () => {
    const p = ketama.build(
      servers(2).map((s) => ({ ...s, live: false })),
      hashFnv1a_64,
    );
    assert.equal(p.pick(key("x"), 0, 1), -1);
  });
});

describe("modula (nc_modula.c)", () => {
  test("weights expand slots, in twemproxy's name order (length first)", () => {
    const s = [
      { name: "zeta", weight: 2 },
      { name: "a1", weight: 1 },
      { name: "c", weight: 3 },
    ];
    assert.deepEqual(twemproxyOrder(s.map((x) => x.name)), [2, 1, 0]);
    assert.deepEqual([...modulaSlots(s)], [2, 2, 2, 1, 0, 0]);
    assert.deepEqual(
      twemproxyOrder(["10.0.0.10:1", "10.0.0.9:1"]),
      [1, 0],
      "shorter name sorts first",
    );
  });
  test("ejected servers leave the modulus (keys rehash)", () => {
    const s = servers(3);
    const p = modula.build(
      s.map((x, i) => ({ ...x, live: i !== 0 })),
      hashFnv1a_64,
    );
    for (const k of keys.slice(0, 200)) assert.notEqual(p.pick(k, 0, k.length), 0);
  });
});

describe("random", () => {
  test("only live servers, uniform-ish", () => {
    const p = random.build(
      servers(3).map((x, i) => ({ ...x, live: i !== 1 })),
      hashFnv1a_64,
    );
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(p.pick(key("k"), 0, 1));
    assert.deepEqual([...seen].sort(), [0, 2]);
  });
});

describe("hash_tag and the router rules (nc_server.c server_pool_idx)", () => {
  const tag = (s: string) => {
    const k = key(s);
    const [a, b] = hashTagRange(k, 0, k.length, 0x7b, 0x7d);
    return k.subarray(a, b).toString();
  };
  test("only the part between the first '{' and the next '}' when non-empty", () => {
    assert.equal(tag("user:{42}:name"), "42");
    assert.equal(tag("{a}{b}"), "a");
    assert.equal(tag("x{}y"), "x{}y");
    assert.equal(tag("x{y"), "x{y");
    assert.equal(tag("}x{y}"), "y");
    assert.equal(tag("a{b{c}"), "b{c");
  });
  test("tagged keys land with their tag", () => {
    const r = buildRouter({
      servers: servers(5),
      hash: "one_at_a_time",
      distribution: "ketama",
      hashTag: "{}",
    });
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !/[{}]/.test(s)),
        fc.string({ maxLength: 10 }),
        (t, rest) => {
          const a = key(`{${t}}${rest}`);
          const b = key(t);
          return r.pick(a, 0, a.length) === r.pick(b, 0, b.length);
        },
      ),
      { numRuns: 200 },
    );
  });
  test("one server always; empty key hashes to 0", () => {
    const one = buildRouter({ servers: servers(1), hash: "md5", distribution: "modula" });
    assert.equal(one.pick(key("anything"), 0, 8), 0);
    const m = buildRouter({ servers: servers(3), hash: "md5", distribution: "modula" });
    assert.equal(m.pick(key(""), 0, 0), twemproxyOrder(servers(3).map((s) => s.name))[0]);
  });
});
