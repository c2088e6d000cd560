/**
 * The memcache reply framer: each whole reply comes out as one byte range, whatever the chunking
 * (whole, byte by byte, split at every offset), with the drop rules of noreply / quiet requests.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { Drop, Kind, withOpcode } from "../../../src/proxy/memcache/expect.js";
import { MemcacheFramer } from "../../../src/proxy/memcache/framer.js";
import { assertSplitInvariant } from "../../helpers/split.js";

interface Framed {
  reply: string;
  isError: boolean;
  droppable: boolean;
}

/** Adapts the framer to the split helper: frames replies for `expects` in order. */
function target(expects: number[]) {
  return () => {
    const f = new MemcacheFramer();
    let i = 0;
    return {
      feed: (c: Buffer) => f.feed(c),
      drain: (): Framed[] => {
        const out: Framed[] = [];
        while (i < expects.length && f.next(expects[i])) {
          out.push({
            reply: f.buf.toString("latin1", f.start, f.end),
            isError: f.isError,
            droppable: f.droppable,
          });
          i++;
        }
        assert.equal(f.broken, false);
        return out;
      },
    };
  };
}

const cases: Array<[string, number]> = [
  ["STORED\r\n", Kind.Line],
  ["VALUE a 0 5\r\nhello\r\nVALUE bb 3 2 77\r\nEN\r\nEND\r\n", Kind.Multi],
  ["END\r\n", Kind.Multi],
  ["SERVER_ERROR out of memory\r\n", Kind.Multi],
  ["STAT pid 1\r\nSTAT uptime 2\r\nEND\r\n", Kind.Multi],
  ["RESET\r\n", Kind.Line],
  ["VA 4 f1\r\n\r\nab\r\n", Kind.Meta],
  ["HD c12\r\n", Kind.Meta],
  ["EN\r\n", Kind.Meta | Drop.MetaMiss],
  ["HD\r\n", Kind.Meta | Drop.MetaOk],
  ["NS\r\n", Kind.Meta | Drop.MetaOk],
  ["NOT_STORED\r\n", Kind.Line | Drop.All],
  ["ITEM a [1 b; 0 s]\r\nEND\r\n", Kind.Lines],
];

describe("memcache reply framer", () => {
  test("frames every reply shape as one range, however the bytes arrive", () => {
    const input = Buffer.from(cases.map(([r]) => r).join(""), "latin1");
    const got = assertSplitInvariant(target(cases.map(([, e]) => e)), input);
    assert.deepEqual(
      got.map((g) => g.reply),
      cases.map(([r]) => r),
    );
    assert.deepEqual(
      got.map((g) => g.droppable),
      [false, false, false, false, false, false, false, false, true, true, false, true, false],
    );
    assert.equal(got[3].isError, true);
    assert.equal(got[0].isError, false);
  });

  test("binary: one packet per reply, Stat until its empty packet, quiet opcode restored", () => {
    const pkt = (op: number, status: number, key: string, value: string) => {
      const k = Buffer.from(key);
      const v = Buffer.from(value);
      const b = Buffer.alloc(24 + k.length + v.length);
      b[0] = 0x81;
      b[1] = op;
      b.writeUInt16BE(k.length, 2);
      b.writeUInt16BE(status, 6);
      b.writeUInt32BE(k.length + v.length, 8);
      k.copy(b, 24);
      v.copy(b, 24 + k.length);
      return b;
    };
    const stream = Buffer.concat([
      pkt(0x00, 1, "", "Not found"), // Get miss, sent for a GetQ
      pkt(0x01, 0, "", ""), // Set ok, sent for a SetQ
      pkt(0x10, 0, "pid", "1"),
      pkt(0x10, 0, "uptime", "2"),
      pkt(0x10, 0, "", ""),
      pkt(0x00, 0, "", "v"),
    ]);
    const expects = [
      withOpcode(Kind.Binary | Drop.BinaryQuiet, 0x09),
      withOpcode(Kind.Binary | Drop.BinaryQuiet, 0x11),
      Kind.BinaryStats,
      Kind.Binary,
    ];
    const f = new MemcacheFramer();
    const got = assertSplitInvariant(() => {
      const t = target(expects)();
      return {
        feed: t.feed,
        drain: () =>
          t.drain().map((g) => ({ ...g, reply: Buffer.from(g.reply, "latin1").toString("hex") })),
      };
    }, stream);
    assert.equal(got.length, 4);
    assert.equal(Buffer.from(got[0].reply, "hex")[1], 0x09, "GetQ opcode restored");
    assert.equal(got[0].droppable, true, "GetQ miss dropped");
    assert.equal(got[1].droppable, true, "SetQ success dropped");
    assert.equal(Buffer.from(got[2].reply, "hex").length, 24 * 3 + 4 + 7);
    assert.equal(got[3].droppable, false);
    assert.equal(f.broken, false);
  });

  test("a reply that breaks the protocol marks the framer broken", () => {
    const f = new MemcacheFramer();
    f.feed(Buffer.from("VALUE a 0 notanumber\r\n"));
    assert.equal(f.next(Kind.Multi), false);
    assert.equal(f.broken, true);
    const g = new MemcacheFramer();
    g.feed(Buffer.from("VALUE a 0 1\r\nxyz\r\n"));
    assert.equal(g.next(Kind.Multi), false);
    assert.equal(g.broken, true);
  });

  test("property: random reply sequences come back exactly, chunked at random", () => {
    const reply = fc.oneof(
      fc
        .constantFrom("STORED\r\n", "NOT_FOUND\r\n", "12345\r\n")
        .map((r) => [r, Kind.Line] as const),
      fc
        .array(fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.uint8Array({ maxLength: 40 })), {
          maxLength: 4,
        })
        .map((items) => {
          let s = "";
          for (const [k, v] of items)
            s += `VALUE ${k} 0 ${v.length}\r\n${Buffer.from(v).toString("latin1")}\r\n`;
          return [`${s}END\r\n`, Kind.Multi] as const;
        }),
      fc
        .uint8Array({ maxLength: 30 })
        .map(
          (v) =>
            [`VA ${v.length} t\r\n${Buffer.from(v).toString("latin1")}\r\n`, Kind.Meta] as const,
        ),
    );
    fc.assert(
      fc.property(
        fc.array(reply, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (rs, cuts) => {
          const input = Buffer.from(rs.map(([r]) => r).join(""), "latin1");
          const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort(
            (a, b) => a - b,
          );
          const t = target(rs.map(([, e]) => e))();
          const out: string[] = [];
          let prev = 0;
          for (const p of [...points, input.length]) {
            t.feed(input.subarray(prev, p));
            out.push(...t.drain().map((g) => g.reply));
            prev = p;
          }
          assert.deepEqual(
            out,
            rs.map(([r]) => r),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
