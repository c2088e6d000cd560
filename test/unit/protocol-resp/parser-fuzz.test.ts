import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ParseStatus, RespRequestParser } from "../../../src/protocol/resp/parser.js";

const arg = fc.uint8Array({ maxLength: 10 }).map((a) => Buffer.from(a));
const request = fc
  .array(arg, { minLength: 1, maxLength: 5 })
  .map((args) =>
    Buffer.concat([
      Buffer.from(`*${args.length}\r\n`),
      ...args.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), a, Buffer.from("\r\n")]),
    ]),
  );
const limits = { maxArgs: 8, maxBulkLen: 64, maxInlineLen: 32 };

describe("RESP request parser, property tests", () => {
  test("valid multibulk pipelines parse to their arguments at any split", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(arg, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (reqs, cuts) => {
          const wire = Buffer.concat(
            reqs.map((args) =>
              Buffer.concat([
                Buffer.from(`*${args.length}\r\n`),
                ...args.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), a, Buffer.from("\r\n")]),
              ]),
            ),
          );
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const p = new RespRequestParser();
          const got: string[][] = [];
          let from = 0;
          for (const at of [...points, wire.length]) {
            p.feed(wire.subarray(from, at));
            from = at;
            while (p.next() === ParseStatus.Ok) {
              const r = p.req;
              const a: string[] = [];
              for (let i = 0; i < r.argc; i++)
                a.push(r.buf.toString("hex", r.argStart[i], r.argEnd[i]));
              got.push(a);
            }
          }
          assert.deepEqual(
            got,
            reqs.map((args) => args.map((a) => a.toString("hex"))),
          );
          assert.equal(p.pending, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("random and mutated bytes never throw, always progress, and stay bounded", () => {
    const mutated = fc
      .tuple(request, fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([b, i, v]) => {
        const c = Buffer.from(b);
        c[i % c.length] = v;
        return c;
      });
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 96 }).map((a) => Buffer.from(a)),
      mutated,
    );
    fc.assert(
      fc.property(fc.array(input, { minLength: 1, maxLength: 4 }), (chunks) => {
        const p = new RespRequestParser(limits);
        let total = 0;
        let failed = false;
        for (const c of chunks) {
          p.feed(c);
          total += c.length;
          for (let i = 0; i <= total + 1; i++) {
            const st = p.next();
            if (st === ParseStatus.Error) {
              assert.match(p.errorReply, /^-ERR Protocol error: [^\r\n]+\r\n$/);
              assert.equal(p.pending, 0);
              failed = true;
            }
            if (st !== ParseStatus.Ok) break;
            assert.ok(p.req.frameEnd > p.req.frameStart);
            assert.ok(p.req.argc >= 1 && p.req.argc <= limits.maxArgs);
          }
          if (failed) break;
          // Pending bytes are one incomplete request, bounded by the limits.
          assert.ok(p.pending <= limits.maxArgs * (limits.maxBulkLen + 40) + 40);
        }
      }),
      { numRuns: 500 },
    );
  });
});
