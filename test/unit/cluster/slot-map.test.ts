import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ParseStatus } from "../../../src/protocol/resp/parser.js";
import { RespReplyFramer } from "../../../src/protocol/resp/reply.js";
import {
  type RespValue as Decoded,
  decodeReply,
  RespErrorValue as ErrorValue,
} from "../../../src/protocol/resp/value.js";
import { SLOTS } from "../../../src/proxy/cluster/slot.js";
import { SlotMap } from "../../../src/proxy/cluster/slot-map.js";
import { assertSplitInvariant } from "../../helpers/split.js";

/** RESP2 encoding of test values (strings as bulk, numbers as integers). */
function resp(v: Decoded): string {
  if (v === null) return "$-1\r\n";
  if (typeof v === "number") return `:${v}\r\n`;
  if (typeof v === "string") return `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
  if (Array.isArray(v)) return `*${v.length}\r\n${v.map(resp).join("")}`;
  throw new Error("unsupported");
}

function node(port: number, role: string, endpoint = "127.0.0.1"): Decoded {
  return [
    "id",
    `id${port}`,
    "port",
    port,
    "ip",
    "127.0.0.1",
    "endpoint",
    endpoint,
    "role",
    role,
    "replication-offset",
    72156,
    "health",
    "online",
  ];
}

/** A CLUSTER SHARDS reply in the layout Redis 7 sends. */
const SHARDS: Decoded = [
  ["slots", [0, 5460], "nodes", [node(30001, "master"), node(30004, "replica")]],
  ["slots", [5461, 10922], "nodes", [node(30005, "replica"), node(30002, "master")]],
  [
    "slots",
    [10923, 12000, 12001, 16383],
    "nodes",
    [node(30003, "master", "?"), node(30006, "replica")],
  ],
];

const SLOTS_REPLY: Decoded = [
  [0, 5460, ["127.0.0.1", 30001, "id30001", []], ["127.0.0.1", 30004, "id30004", []]],
  [5461, 10922, ["127.0.0.1", 30002, "id30002", []], ["127.0.0.1", 30005, "id30005", []]],
  [10923, 12000, ["", 30003, "id30003", []], ["127.0.0.1", 30006, "id30006", []]],
  [12001, 16383, ["?", 30003, "id30003", []], ["127.0.0.1", 30006, "id30006", []]],
];

function decodeAll(text: string): Decoded[] {
  const f = new RespReplyFramer();
  f.feed(Buffer.from(text));
  const out: Decoded[] = [];
  while (f.next() === ParseStatus.Ok)
    out.push(decodeReply(f.reply.buf, f.reply.frameStart, f.reply.frameEnd));
  return out;
}

describe("reply decoding", () => {
  test("RESP2 and RESP3 forms", () => {
    assert.deepEqual(decodeAll(resp(SHARDS))[0], SHARDS);
    // A RESP3 map reads as the RESP2 flat list; attributes are dropped; nulls, booleans, doubles.
    assert.deepEqual(decodeAll("%2\r\n+a\r\n:1\r\n$1\r\nb\r\n*0\r\n")[0], ["a", 1, "b", []]);
    assert.deepEqual(decodeAll("|1\r\n+ttl\r\n:3\r\n*2\r\n_\r\n#t\r\n")[0], [null, true]);
    assert.deepEqual(decodeAll("*2\r\n,1.5\r\n|1\r\n+x\r\n+y\r\n=7\r\ntxt:abc\r\n")[0], [
      1.5,
      "abc",
    ]);
    assert.deepEqual(decodeAll("*-1\r\n$-1\r\n*1\r\n*1\r\n*0\r\n"), [null, null, [[[]]]]);
    const e = decodeAll("-ERR x\r\n")[0];
    assert.ok(e instanceof ErrorValue && e.message === "ERR x");
  });

  test("a real-sized reply framed from split input decodes the same", () => {
    const input = Buffer.from(resp(SHARDS) + resp(SLOTS_REPLY));
    const got = assertSplitInvariant(
      () => {
        const f = new RespReplyFramer();
        return {
          feed: (c: Buffer) => f.feed(c),
          drain: () => {
            const out: string[] = [];
            while (f.next() === ParseStatus.Ok)
              out.push(
                JSON.stringify(decodeReply(f.reply.buf, f.reply.frameStart, f.reply.frameEnd)),
              );
            return out;
          },
        };
      },
      input,
      { maxSplitLength: 2000 },
    );
    assert.deepEqual(
      got.map((s) => JSON.parse(s)),
      [SHARDS, SLOTS_REPLY],
    );
  });
});

describe("slot maps", () => {
  test("from CLUSTER SHARDS and from CLUSTER SLOTS, the same routing", () => {
    const a = SlotMap.fromShards(SHARDS, "10.0.0.9");
    const b = SlotMap.fromSlots(SLOTS_REPLY, "10.0.0.9");
    for (const m of [a, b]) {
      assert.equal(m.uncovered(), 0);
      assert.equal(m.shards.length, 3);
      assert.deepEqual(m.slotCounts(), [5461, 5462, 5461]);
      assert.equal(m.masterOf(0)?.port, 30001);
      assert.equal(m.masterOf(5461)?.port, 30002);
      assert.equal(m.shardOf(16383)?.replicas[0].port, 30006);
    }
    // An unknown endpoint ("?"): CLUSTER SHARDS still gives the node's ip; CLUSTER SLOTS has
    // only the endpoint, so the host that answered is used.
    assert.equal(a.masterOf(12000)?.host, "127.0.0.1");
    assert.equal(b.masterOf(12000)?.host, "10.0.0.9");
    assert.equal(a.masterOf(5461)?.id, "id30002");
    assert.equal(a.shardOf(5461)?.replicas[0].port, 30005);
  });

  test("immutable", () => {
    const a = SlotMap.fromShards(SHARDS, "h");
    assert.ok(Object.isFrozen(a.shards));
    assert.ok(Object.isFrozen(a.shards[0]) && Object.isFrozen(a.shards[0].master));
    assert.throws(() => {
      (a.shards as unknown as Decoded[]).push([]);
    });
  });

  test("a shard without a master serves nothing; bad input throws", () => {
    const noMaster: Decoded = [["slots", [0, 100], "nodes", [node(1, "replica")]]];
    assert.equal(SlotMap.fromShards(noMaster, "h").uncovered(), SLOTS);
    assert.throws(() => SlotMap.fromShards("x", "h"));
    assert.throws(() =>
      SlotMap.fromShards([["slots", [0, 16384], "nodes", [node(1, "master")]]], "h"),
    );
    assert.throws(() => SlotMap.fromSlots([[0, 1]], "h"));
    assert.throws(() => SlotMap.fromSlots([[0, 1, ["h", 0]]], "h"));
  });

  test("property: random partitions of the slot space route every slot to its range's master", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: SLOTS - 1 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 21, maxLength: 21 }),
        (cuts, owners) => {
          const bounds = [0, ...cuts.sort((x, y) => x - y), SLOTS];
          const reply: Decoded = [];
          for (let i = 0; i + 1 < bounds.length; i++)
            reply.push([bounds[i], bounds[i + 1] - 1, ["127.0.0.1", 7000 + owners[i]]]);
          const m = SlotMap.fromSlots(reply, "h");
          for (let i = 0; i + 1 < bounds.length; i++)
            for (const s of [bounds[i], bounds[i + 1] - 1])
              assert.equal(m.masterOf(s)?.port, 7000 + owners[i]);
          assert.equal(m.uncovered(), 0);
          assert.equal(new Set(m.shards.map((x) => x.master.port)).size, m.shards.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
