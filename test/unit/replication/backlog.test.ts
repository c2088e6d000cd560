import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { BacklogRing } from "../../../src/node/replication/backlog.js";

/** A frame of `n` bytes total whose body bytes are all `fill`. */
function frame(n: number, fill: number): Buffer {
  const b = Buffer.alloc(n, fill);
  b.writeUInt32BE(n - 4, 0);
  return b;
}

describe("replication backlog ring", () => {
  test("append, covers, positionAfter and read across the wrap", () => {
    const r = new BacklogRing(100);
    const frames: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      const f = frame(10 + (i % 5) * 3, i + 1);
      frames.push(f);
      assert.equal(r.append(f, 0, f.length, i), i + 1);
    }
    const total = frames.reduce((a, f) => a + f.length, 0);
    assert.equal(r.headPos, total);
    assert.ok(r.headPos - r.tailPos <= 100);
    // Everything from firstSeq on is readable and equals what was appended.
    const first = r.firstSeq;
    assert.ok(first > 1, "old records were dropped");
    assert.ok(r.covers(first - 1) && r.covers(12) && !r.covers(first - 2) && !r.covers(13));
    const pos = r.positionAfter(first - 1);
    assert.equal(pos, r.tailPos);
    assert.deepEqual(r.read(pos, 1000), Buffer.concat(frames.slice(first - 1)));
    assert.equal(r.positionAfter(12), r.headPos);
    assert.equal(r.lost(r.tailPos - 1), true);
    assert.equal(r.lost(r.tailPos), false);
    // Partial reads stitch together.
    const a = r.read(pos, 7);
    const b = r.read(pos + 7, 1000);
    assert.deepEqual(Buffer.concat([a, b]), Buffer.concat(frames.slice(first - 1)));
  });

  test("lag in ms comes from append times", () => {
    const r = new BacklogRing(1000);
    const f = frame(10, 1);
    r.append(f, 0, 10, 1000);
    r.append(f, 0, 10, 1500);
    assert.equal(r.lagMs(2, 2000), 0);
    assert.equal(r.lagMs(1, 2000), 500);
    assert.equal(r.lagMs(0, 2000), 1000);
  });

  test("model: the ring always holds exactly the newest frames that fit", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 300 }),
        fc.array(fc.integer({ min: 5, max: 60 }), { maxLength: 80 }),
        (cap, sizes) => {
          const r = new BacklogRing(cap);
          const kept: Buffer[] = [];
          let bytes = 0;
          sizes.forEach((n, i) => {
            const f = frame(n, i & 0xff);
            r.append(f, 0, n, i);
            kept.push(f);
            bytes += n;
            while (bytes > cap) bytes -= kept.shift()!.length;
          });
          assert.equal(r.headSeq, sizes.length);
          assert.equal(r.firstSeq, sizes.length - kept.length + 1);
          assert.equal(r.headPos - r.tailPos, bytes);
          assert.deepEqual(r.read(r.tailPos, cap), Buffer.concat(kept));
        },
      ),
      { numRuns: 300 },
    );
  });
});
