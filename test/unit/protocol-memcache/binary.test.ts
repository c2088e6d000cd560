import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  BinaryRequest,
  BinaryRequestParser,
  binaryStatus,
  Opcode,
  ParseStatus,
  writeBinaryHeader,
} from "../../../src/protocol/memcache/binary.js";
import { detectProtocol, Protocol } from "../../../src/protocol/memcache/detect.js";
import { binaryRequest as req } from "../../helpers/binary-request.js";
import { assertSplitInvariant, type SplitTarget } from "../../helpers/split.js";

function target(): SplitTarget<unknown> {
  const p = new BinaryRequestParser({ maxValueBytes: 64 });
  const r = new BinaryRequest();
  return {
    feed: (c) => p.feed(c),
    drain: () => {
      const out: unknown[] = [];
      for (let i = 0; i < 10_000; i++) {
        const s = p.next(r);
        if (s === ParseStatus.NeedMore) return out;
        const b = p.buffer;
        out.push({
          s,
          op: r.opcode,
          quiet: r.quiet,
          opaque: r.opaque,
          key: s === ParseStatus.Ok ? b.toString("latin1", r.keyStart, r.keyEnd) : "",
          value: s === ParseStatus.Ok ? b.toString("latin1", r.valueStart, r.valueEnd) : "",
          flags: r.flags,
          exptime: r.exptime,
          delta: [r.deltaHi, r.deltaLo, r.initialHi, r.initialLo],
          status: r.status,
          close: r.close,
        });
      }
      throw new Error("parser did not stop");
    },
  };
}

describe("binary protocol requests", () => {
  test("set, get, incr, flush, touch, noop, quiet variants", () => {
    const setX = Buffer.alloc(8);
    setX.writeUInt32BE(0xdeadbeef, 0);
    setX.writeInt32BE(-5, 4);
    const incX = Buffer.alloc(20);
    incX.writeUInt32BE(1, 0);
    incX.writeUInt32BE(2, 4);
    incX.writeUInt32BE(3, 12);
    incX.writeUInt32BE(60, 16);
    const four = Buffer.alloc(4);
    four.writeUInt32BE(30);
    const input = Buffer.concat([
      req(Opcode.Set, "k", setX, "val"),
      req(Opcode.GetKQ, "k"),
      req(Opcode.Increment, "n", incX),
      req(Opcode.Flush, "", four),
      req(Opcode.Flush),
      req(Opcode.Touch, "k", four),
      req(Opcode.Noop, "", Buffer.alloc(0), "", 0xffffffff),
    ]);
    const r = assertSplitInvariant(target, input) as Record<string, unknown>[];
    assert.equal(r.length, 7);
    assert.deepEqual(
      r.map((x) => [x.s, x.op, x.key]),
      [
        [1, Opcode.Set, "k"],
        [1, Opcode.GetKQ, "k"],
        [1, Opcode.Increment, "n"],
        [1, Opcode.Flush, ""],
        [1, Opcode.Flush, ""],
        [1, Opcode.Touch, "k"],
        [1, Opcode.Noop, ""],
      ],
    );
    assert.equal(r[0].flags, 0xdeadbeef);
    assert.equal(r[0].exptime, -5);
    assert.equal(r[0].value, "val");
    assert.equal(r[1].quiet, true);
    assert.deepEqual(r[2].delta, [1, 2, 0, 3]);
    assert.equal(r[5].exptime, 30);
    assert.equal(r[6].opaque, 0xffffffff);
  });

  test("unknown opcodes and too-large values are answered and their body skipped", () => {
    const setX = Buffer.alloc(8);
    const input = Buffer.concat([
      req(0x21, "PLAIN", Buffer.alloc(0), "secret"),
      req(Opcode.Set, "big", setX, "x".repeat(100)),
      req(Opcode.Get, "k"),
    ]);
    const r = assertSplitInvariant(target, input) as Record<string, unknown>[];
    assert.deepEqual(
      r.map((x) => [x.s, x.status, x.close]),
      [
        [2, binaryStatus.UnknownCommand, false],
        [2, binaryStatus.ValueTooLarge, false],
        [1, 0, false],
      ],
    );
  });

  test("bad shapes give EINVAL and close; bad magic closes silently", () => {
    const bad = [
      req(Opcode.Get),
      req(Opcode.Get, "k".repeat(251)),
      req(Opcode.Set, "k"),
      req(Opcode.Version, "k"),
    ];
    for (const b of bad) {
      const [r] = assertSplitInvariant(target, b) as Record<string, unknown>[];
      assert.deepEqual([r.s, r.status, r.close], [2, binaryStatus.InvalidArguments, true]);
    }
    const p = new BinaryRequestParser();
    const r = new BinaryRequest();
    p.feed(Buffer.alloc(24, 0x81));
    assert.equal(p.next(r), ParseStatus.Error);
    assert.equal(r.silent, true);
    assert.equal(r.close, true);
  });

  test("writeBinaryHeader and protocol detection", () => {
    const b = Buffer.alloc(30);
    assert.equal(
      writeBinaryHeader(b, 2, Opcode.Get, binaryStatus.KeyNotFound, 9, 0, 4, 9, 0, 5),
      26,
    );
    assert.deepEqual([b[2], b[3], b.readUInt16BE(8), b.readUInt32BE(10), b[6]], [0x81, 0, 1, 9, 4]);
    assert.equal(b.readUInt32BE(14), 9);
    assert.equal(b.readUInt32BE(22), 5);
    assert.equal(detectProtocol(req(Opcode.Noop)), Protocol.Binary);
    assert.equal(detectProtocol(Buffer.from("get a\r\n")), Protocol.Text);
    assert.equal(detectProtocol(Buffer.alloc(0)), Protocol.Unknown);
  });
});
