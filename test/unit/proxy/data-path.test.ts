import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  type Flushable,
  flushReplies,
  scheduleFlush,
  scheduleReply,
} from "../../../src/proxy/flush.js";
import { BACKEND_SLAB, ReadSlab } from "../../../src/proxy/read-slab.js";

class Recorder implements Flushable {
  flushQueued = false;
  constructor(
    readonly name: string,
    readonly log: string[],
    readonly onFlush?: () => void,
  ) {}
  flush(): void {
    this.log.push(this.name);
    this.onFlush?.();
  }
}

const nextImmediate = () => new Promise<void>((r) => setImmediate(r));

describe("flush queues", () => {
  test("replies go out at flushReplies(), backend writes wait for the check phase", async () => {
    const log: string[] = [];
    const backend = new Recorder("backend", log);
    const a = new Recorder("a", log);
    const b = new Recorder("b", log);
    scheduleFlush(backend);
    scheduleReply(a);
    scheduleReply(b);
    scheduleReply(a); // registered once
    flushReplies();
    assert.deepEqual(log, ["a", "b"]);
    await nextImmediate();
    assert.deepEqual(log, ["a", "b", "backend"]);
    assert.equal(backend.flushQueued, false);
  });

  test("a reply scheduled with no backend read in progress is caught by the check phase", async () => {
    const log: string[] = [];
    scheduleReply(new Recorder("late", log));
    assert.deepEqual(log, []);
    await nextImmediate();
    assert.deepEqual(log, ["late"]);
  });

  test("what a flush schedules meanwhile is not lost", async () => {
    const log: string[] = [];
    const inner = new Recorder("inner", log);
    const outer = new Recorder("outer", log, () => scheduleReply(inner));
    scheduleReply(outer);
    flushReplies();
    assert.deepEqual(log, ["outer"]);
    await nextImmediate();
    assert.deepEqual(log, ["outer", "inner"]);
  });
});

describe("read slab", () => {
  /** Plays the socket: writes `n` bytes of `fill` into the region, then claims them. */
  function read(slab: ReadSlab, n: number, fill: number, first: boolean): Buffer {
    const region = slab.region();
    // The first region is BACKEND_SLAB.first; every later one leaves room for a useful read.
    assert.ok(region.length >= Math.min(n, first ? BACKEND_SLAB.first : 16 * 1024));
    const k = Math.min(n, region.length);
    region.fill(fill, 0, k);
    return slab.claim(k);
  }

  test("claimed chunks are never overwritten by later reads", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40_000 }), { maxLength: 60 }), (sizes) => {
        const slab = new ReadSlab();
        const kept: Array<[Buffer, number]> = [];
        sizes.forEach((n, i) => {
          kept.push([read(slab, n, i & 0xff, i === 0), i & 0xff]);
        });
        for (const [chunk, fill] of kept) {
          assert.ok(chunk.length > 0);
          for (let i = 0; i < chunk.length; i++) if (chunk[i] !== fill) return false;
        }
        return true;
      }),
      { numRuns: 100 },
    );
  });
});
