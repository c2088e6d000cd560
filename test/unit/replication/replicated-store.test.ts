import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HybridLogicalClock, type Version } from "../../../src/node/clock.js";
import {
  Frame,
  FrameParser,
  FrameType,
  RecOp,
  Record,
  readRecord,
  recordFrameLength,
  writeRecord,
} from "../../../src/node/replication/frame.js";
import { timeoutReply } from "../../../src/node/replication/held-replies.js";
import { ApplyResult, ReplicatedStore } from "../../../src/node/replication/replicated-store.js";
import { NO_ITEM, StoreMode, StoreResult } from "../../../src/store/types.js";

const NOW = 1_800_000_000;

function setup() {
  const hlc = new HybridLogicalClock(5);
  const ver: Version = { hi: 0, lo: 0 };
  let dirtyCalls = 0;
  const flushes: number[] = [];
  const s = new ReplicatedStore(
    { memoryLimitBytes: 8 << 20, maxItemSize: 1 << 20 },
    {
      nextVersion: () => hlc.tick(ver),
      onDirty: () => dirtyCalls++,
      onFlush: (at) => flushes.push(at),
      tombstoneTtl: 300,
    },
  );
  return { s, hlc, dirty: () => dirtyCalls, flushes };
}

/** A decoded record, as a peer would send it. */
function record(op: RecOp, key: string, value: string, hi: number, lo: number, exp = 0): Record {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  const b = Buffer.alloc(recordFrameLength(k.length, v.length));
  writeRecord(b, 0, FrameType.Rec, op, hi, lo, 0, exp, k, 0, k.length, v, 0, v.length);
  const p = new FrameParser(1 << 20);
  const f = new Frame();
  p.feed(b);
  p.next(f);
  const r = new Record();
  assert.ok(readRecord(p.buffer, f, r));
  return r;
}

function get(s: ReplicatedStore, key: string): string | undefined {
  const k = Buffer.from(key);
  const h = s.find(k, 0, k.length, NOW);
  if (h === NO_ITEM) return undefined;
  const vs = s.valueStart(h);
  return s.valueBuffer(h).toString("latin1", vs, vs + s.valueLength(h));
}

function keysOf(s: ReplicatedStore): string[] {
  const out: string[] = [];
  s.drainDirty((b, ks, ke) => out.push(b.toString("latin1", ks, ke)));
  return out;
}

describe("replicated store", () => {
  test("last writer wins by version, whatever the arrival order", () => {
    const { s } = setup();
    assert.equal(s.applyRecord(record(RecOp.Set, "k", "new", 10, 5), NOW), ApplyResult.Applied);
    assert.equal(s.applyRecord(record(RecOp.Set, "k", "old", 10, 4), NOW), ApplyResult.Stale);
    assert.equal(get(s, "k"), "new");
    assert.equal(s.applyRecord(record(RecOp.Set, "k", "newer", 11, 0), NOW), ApplyResult.Applied);
    assert.equal(get(s, "k"), "newer");
    // The same version is the same write.
    assert.equal(s.applyRecord(record(RecOp.Set, "k", "newer", 11, 0), NOW), ApplyResult.Stale);
    // Replicated items keep the writer's version as their CAS.
    const k = Buffer.from("k");
    const h = s.find(k, 0, 1, NOW);
    assert.equal(s.verHi(h), 11);
    assert.equal(s.verLo(h), 0);
    // Applying never marks keys for re-forwarding.
    assert.equal(s.dirtyCount, 0);
  });

  test("a delete's tombstone stops an older write from resurrecting the key", () => {
    const { s } = setup();
    s.applyRecord(record(RecOp.Set, "k", "v", 1, 1), NOW);
    assert.equal(s.applyRecord(record(RecOp.Del, "k", "", 1, 9), NOW), ApplyResult.Applied);
    assert.equal(get(s, "k"), undefined);
    assert.equal(s.applyRecord(record(RecOp.Set, "k", "late", 1, 5), NOW), ApplyResult.Stale);
    assert.equal(get(s, "k"), undefined);
    assert.equal(s.applyRecord(record(RecOp.Set, "k", "after", 2, 0), NOW), ApplyResult.Applied);
    assert.equal(get(s, "k"), "after");
  });

  test("an equal-version Set carries a touch (exptime only)", () => {
    const { s } = setup();
    s.applyRecord(record(RecOp.Set, "k", "v", 3, 3, 0), NOW);
    assert.equal(
      s.applyRecord(record(RecOp.Set, "k", "v", 3, 3, NOW + 100), NOW),
      ApplyResult.Applied,
    );
    const k = Buffer.from("k");
    assert.equal(s.exptime(s.find(k, 0, 1, NOW)), NOW + 100);
  });

  test("local writes are captured by key; local deletes leave a versioned tombstone", () => {
    const { s, dirty } = setup();
    const k = Buffer.from("key");
    const v = Buffer.from("val");
    assert.equal(
      s.store(StoreMode.Set, k, 0, 3, v, 0, 3, 0, 0, 0, 0, 1, 1, NOW),
      StoreResult.Stored,
    );
    assert.equal(
      s.store(StoreMode.Add, k, 0, 3, v, 0, 3, 0, 0, 0, 0, 1, 2, NOW),
      StoreResult.NotStored,
    );
    assert.equal(dirty(), 1);
    assert.deepEqual(keysOf(s), ["key"]);
    assert.equal(s.delete(k, 0, 3, NOW), true);
    assert.deepEqual(keysOf(s), ["key"]);
    const t = s.findAny(k, 0, 3);
    assert.ok(t !== NO_ITEM && s.isTombstone(t));
    // Deleting a missing key changes nothing and logs nothing.
    assert.equal(s.delete(Buffer.from("nope"), 0, 4, NOW), false);
    assert.equal(s.dirtyCount, 0);
  });

  test("flush_all: local flushes are reported; writes older than an applied flush are void", () => {
    const { s, flushes } = setup();
    s.flushAll(0, NOW);
    assert.deepEqual(flushes, [0]);
    s.applyRecord(record(RecOp.Set, "a", "1", 5, 0), NOW + 1);
    assert.equal(s.applyRecord(record(RecOp.Flush, "", "", 6, 0), NOW + 1), ApplyResult.Applied);
    assert.equal(get(s, "a"), undefined);
    assert.equal(s.applyRecord(record(RecOp.Set, "b", "2", 5, 9), NOW + 1), ApplyResult.Stale);
    assert.equal(s.applyRecord(record(RecOp.Flush, "", "", 6, 0), NOW + 1), ApplyResult.Stale);
    assert.deepEqual(flushes, [0], "applied flushes are not re-reported");
  });

  test("timeout replies keep the framing of the held reply", () => {
    assert.equal(
      timeoutReply(Buffer.from("STORED\r\n")).toString(),
      "SERVER_ERROR replication timeout\r\n",
    );
    const bin = Buffer.alloc(24);
    bin[0] = 0x81;
    bin[1] = 0x01; // SET
    bin.writeUInt32BE(0xdeadbeef, 12);
    const r = timeoutReply(bin);
    assert.equal(r[0], 0x81);
    assert.equal(r[1], 0x01);
    assert.equal(r.readUInt16BE(6), 0x0084);
    assert.equal(r.readUInt32BE(12), 0xdeadbeef);
    assert.equal(r.toString("latin1", 24), "replication timeout");
  });
});
