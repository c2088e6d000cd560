import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  BinaryResponse,
  BinaryResponseParser,
  ParseStatus,
  ReplyKind,
  ReplyMode,
  TextResponse,
  TextResponseParser,
} from "../../../src/protocol/memcache/response.js";
import { assertSplitInvariant, type SplitTarget } from "../../helpers/split.js";

function textTarget(mode: ReplyMode = ReplyMode.Auto): () => SplitTarget<unknown> {
  return () => {
    const p = new TextResponseParser({ maxValueBytes: 1000 });
    const r = new TextResponse();
    return {
      feed: (c) => p.feed(c),
      drain: () => {
        const out: unknown[] = [];
        for (let i = 0; i < 10_000; i++) {
          const s = p.next(r, mode);
          if (s === ParseStatus.NeedMore) return out;
          const b = p.buffer;
          out.push([
            s,
            r.kind,
            r.terminal,
            s === ParseStatus.Ok ? b.toString("latin1", r.frameStart, r.frameEnd) : r.error,
            b.toString("latin1", r.keyStart, r.keyEnd),
            s === ParseStatus.Ok ? b.toString("latin1", r.dataStart, r.dataEnd) : "",
          ]);
        }
        throw new Error("parser did not stop");
      },
    };
  };
}

describe("text response framing", () => {
  test("multi-get items, END, single lines, meta replies", () => {
    const input =
      "VALUE a 0 2\r\nhi\r\nVALUE bb 5 3 77\r\n\r\n\n\r\nEND\r\nSTORED\r\n42\r\nVERSION 1.6.18\r\n" +
      "VA 2 t-1 f0\r\nhi\r\nHD c5\r\nEN\r\nMN\r\nSERVER_ERROR out of memory\r\nSTAT pid 1\r\nEND\r\n";
    const r = assertSplitInvariant(textTarget(), Buffer.from(input)) as unknown[][];
    assert.deepEqual(
      r.map((x) => [x[1], x[2], x[4], x[5]]),
      [
        [ReplyKind.Value, false, "a", "hi"],
        [ReplyKind.Value, false, "bb", "\r\n\n"],
        [ReplyKind.End, true, "", ""],
        [ReplyKind.Line, true, "", ""],
        [ReplyKind.Line, true, "", ""],
        [ReplyKind.Line, true, "", ""],
        [ReplyKind.MetaValue, true, "", "hi"],
        [ReplyKind.Line, true, "", ""],
        [ReplyKind.Line, true, "", ""],
        [ReplyKind.Line, true, "", ""],
        [ReplyKind.Error, true, "", ""],
        [ReplyKind.Stat, false, "", ""],
        [ReplyKind.End, true, "", ""],
      ],
    );
    assert.equal(r.map((x) => x[3]).join(""), input);
  });

  test("Lines mode runs until END (lru_crawler metadump)", () => {
    const input = "key=a exp=-1 la=1\nkey=b exp=-1 la=2\nEND\r\n";
    const r = assertSplitInvariant(textTarget(ReplyMode.Lines), Buffer.from(input)) as unknown[][];
    assert.deepEqual(
      r.map((x) => x[2]),
      [false, false, true],
    );
  });

  test("a corrupt stream is an error", () => {
    for (const bad of [
      "VALUE a 0 x\r\n",
      "VALUE a 0 2\r\nhiX\r\n",
      "VA -1\r\n",
      "VALUE a 0 5000\r\n",
    ]) {
      const r = assertSplitInvariant(textTarget(), Buffer.from(bad)) as unknown[][];
      assert.equal(r.at(-1)?.[0], ParseStatus.Error, bad);
    }
  });
});

describe("binary response framing", () => {
  test("frames by body length", () => {
    const h = Buffer.alloc(24);
    h[0] = 0x81;
    h[1] = 0x0c;
    h.writeUInt16BE(1, 2);
    h[4] = 4;
    h.writeUInt16BE(1, 6);
    h.writeUInt32BE(7, 8);
    h.writeUInt32BE(99, 12);
    const frame = Buffer.concat([h, Buffer.from("\0\0\0\x05kvv")]);
    const target = (): SplitTarget<unknown> => {
      const p = new BinaryResponseParser();
      const r = new BinaryResponse();
      return {
        feed: (c) => p.feed(c),
        drain: () => {
          const out: unknown[] = [];
          while (p.next(r) === ParseStatus.Ok) {
            const b = p.buffer;
            out.push([
              r.opcode,
              r.status,
              r.opaque,
              b.toString("latin1", r.keyStart, r.keyEnd),
              b.toString("latin1", r.valueStart, r.valueEnd),
            ]);
          }
          return out;
        },
      };
    };
    const r = assertSplitInvariant(target, Buffer.concat([frame, frame]));
    assert.deepEqual(r, [
      [0x0c, 1, 99, "k", "vv"],
      [0x0c, 1, 99, "k", "vv"],
    ]);
    const p = new BinaryResponseParser();
    p.feed(Buffer.alloc(24, 0x80));
    assert.equal(p.next(new BinaryResponse()), ParseStatus.Error);
  });
});
