/**
 * The memcache driver's client side: which Plan each request becomes (forward / split /
 * broadcast / local), noreply and meta q stripped towards the backend, mergers and stats
 * aggregation. Plans are compared as plain values so whole, byte-by-byte and split feeding can
 * be checked to agree.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type ClientState, ParseResult, type Plan } from "../../../src/proxy/driver.js";
import { Fifo } from "../../../src/proxy/fifo.js";
import { memcacheDriver } from "../../../src/proxy/memcache/index.js";
import { TextStatsMerger } from "../../../src/proxy/memcache/mergers.js";
import { aggregateStats } from "../../../src/proxy/memcache/stats-merge.js";
import { OutBuffer } from "../../../src/util/out-buffer.js";
import { assertSplitInvariant } from "../../helpers/split.js";

const state: ClientState = {
  authenticated: false,
  password: undefined,
  resp3: false,
  pinned: -1,
  // Keys of odd length on server 1, even on server 0: multi-gets split in a known way.
  shardOf: (_b, s, e) => (e - s) % 2,
  servers: 2,
};

/** A plan as plain comparable values. */
function show(p: Plan): Record<string, unknown> {
  switch (p.kind) {
    case "local":
      return { kind: "local", reply: p.reply.toString("latin1"), close: p.close ?? false };
    case "forward":
      return {
        kind: "forward",
        key: p.buf.toString("latin1", p.keyStart, p.keyEnd),
        send: (p.rewrite ?? p.buf.subarray(p.frameStart, p.frameEnd)).toString("latin1"),
        silent: p.silent,
        idempotent: p.idempotent,
        // The rewrite keeps the key at its offset from the frame start (router contract).
        keyInSend: (p.rewrite ?? p.buf.subarray(p.frameStart, p.frameEnd)).toString(
          "latin1",
          p.keyStart - p.frameStart,
          p.keyEnd - p.frameStart,
        ),
      };
    case "broadcast":
      return { kind: "broadcast", send: p.request.toString("latin1"), silent: p.silent };
    case "split":
      return {
        kind: "split",
        parts: p.parts.map((x) => [
          x.keyBuf.toString("latin1", x.keyStart, x.keyEnd),
          x.request.toString("latin1"),
        ]),
      };
  }
}

function parser() {
  return () => {
    const p = memcacheDriver.newClientParser({ maxRequestBytes: 1 << 20 }, state);
    return {
      feed: (c: Buffer) => p.feed(c),
      drain: () => {
        const out: Record<string, unknown>[] = [];
        for (let r = p.next(); r !== ParseResult.NeedMore; r = p.next()) {
          if (r === ParseResult.Error)
            out.push({ kind: "error", reply: p.errorReply?.toString("latin1") });
          else if (p.plan) out.push(show(p.plan));
        }
        return out;
      },
    };
  };
}

describe("memcache driver: text requests to plans", () => {
  test("every command kind, however the bytes arrive", () => {
    const input = Buffer.from(
      "get a\r\nget a bb ccc\r\ngat 10 x y\r\nset k 1 2 3 noreply\r\nabc\r\nincr n 5\r\n" +
        "delete d noreply\r\nflush_all\r\nverbosity 1 noreply\r\nstats\r\nversion\r\n" +
        "mg mk v q k\r\nms mk 2 q\r\nhi\r\nmn\r\nbogus\r\nquit\r\n",
      "latin1",
    );
    const plans = assertSplitInvariant(parser(), input);
    assert.deepEqual(plans[0], {
      kind: "forward",
      key: "a",
      send: "get a\r\n",
      silent: false,
      idempotent: true,
      keyInSend: "a",
    });
    // One fragment per server, keys in request order within it (nc_memcache.c
    // memcache_fragment); keys that share one server go out as the client sent them.
    assert.deepEqual(plans[1], {
      kind: "split",
      parts: [
        ["a", "get a ccc\r\n"],
        ["bb", "get bb\r\n"],
      ],
    });
    assert.deepEqual(plans[2], {
      kind: "forward",
      key: "x",
      send: "gat 10 x y\r\n",
      silent: false,
      idempotent: false,
      keyInSend: "x",
    });
    assert.deepEqual(plans[3], {
      kind: "forward",
      key: "k",
      send: "set k 1 2 3\r\nabc\r\n",
      silent: true,
      idempotent: true,
      keyInSend: "k",
    });
    assert.equal((plans[4] as { idempotent: boolean }).idempotent, false);
    assert.deepEqual(plans[5], {
      kind: "forward",
      key: "d",
      send: "delete d\r\n",
      silent: true,
      idempotent: true,
      keyInSend: "d",
    });
    assert.deepEqual(plans[6], { kind: "broadcast", send: "flush_all\r\n", silent: false });
    assert.deepEqual(plans[7], { kind: "broadcast", send: "verbosity 1\r\n", silent: true });
    assert.deepEqual(plans[8], { kind: "broadcast", send: "stats\r\n", silent: false });
    assert.match(String(plans[9].reply), /^VERSION /);
    assert.deepEqual(plans[10], {
      kind: "forward",
      key: "mk",
      send: "mg mk v k\r\n",
      silent: true,
      idempotent: true,
      keyInSend: "mk",
    });
    assert.equal(plans[11].send, "ms mk 2\r\nhi\r\n");
    assert.deepEqual(plans[12], { kind: "local", reply: "MN\r\n", close: false });
    assert.deepEqual(plans[13], { kind: "error", reply: "ERROR\r\n" });
    assert.deepEqual(plans[14], { kind: "local", reply: "", close: true });
  });

  test("binary: quiet opcodes go out as their loud twin; Noop/Version are local", () => {
    const pkt = (op: number, key: string, extras = 0, opaque = 7) => {
      const b = Buffer.alloc(24 + extras + key.length);
      b[0] = 0x80;
      b[1] = op;
      b.writeUInt16BE(key.length, 2);
      b[4] = extras;
      b.writeUInt32BE(extras + key.length, 8);
      b.writeUInt32BE(opaque, 12);
      b.write(key, 24 + extras, "latin1");
      return b;
    };
    const input = Buffer.concat([
      pkt(0x09, "q1"),
      pkt(0x00, "g1"),
      pkt(0x0a, ""),
      pkt(0x08, "", 0),
    ]);
    const plans = assertSplitInvariant(parser(), input);
    assert.equal(plans[0].kind, "forward");
    assert.equal(Buffer.from(String(plans[0].send), "latin1")[1], 0x00, "GetQ sent as Get");
    assert.equal(plans[0].silent, true);
    assert.equal(plans[1].silent, false);
    assert.equal(plans[2].kind, "local");
    assert.equal(plans[3].kind, "broadcast");
  });
});

describe("memcache mergers and stats aggregation", () => {
  test("stats: counters summed, per-process values from the first server", () => {
    assert.deepEqual(
      aggregateStats([
        [
          ["pid", "10"],
          ["cmd_get", "5"],
          ["rusage_user", "0.500000"],
          ["version", "1.6.18"],
        ],
        [
          ["pid", "20"],
          ["cmd_get", "18446744073709551615"],
          ["rusage_user", "0.250000"],
          ["extra", "1"],
        ],
      ]),
      [
        ["pid", "10"],
        ["cmd_get", "18446744073709551620"],
        ["rusage_user", "0.750000"],
        ["version", "1.6.18"],
        ["extra", "1"],
      ],
    );
    const m = new TextStatsMerger(2);
    m.add(0, Buffer.from("STAT curr_items 2\r\nEND\r\n"));
    m.add(1, Buffer.from("STAT curr_items 3\r\nEND\r\n"));
    const out = new OutBuffer();
    m.write(out);
    assert.equal(out.take()?.toString(), "STAT curr_items 5\r\nEND\r\n");
  });

  test("Fifo behaves like an array queue (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.nat(), fc.constant(-1)), { maxLength: 300 }), (ops) => {
        const q = new Fifo<number>();
        const model: number[] = [];
        for (const op of ops) {
          if (op < 0) assert.equal(q.shift(), model.shift());
          else {
            q.push(op);
            model.push(op);
          }
          assert.equal(q.length, model.length);
          assert.equal(q.peek(), model[0]);
        }
        assert.deepEqual(q.drain(), model);
      }),
      { numRuns: 200 },
    );
  });
});
