import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Store } from "../../../src/store/store.js";
import { StoreMode, StoreResult } from "../../../src/store/types.js";

// A gc() handle without command-line flags, so heap figures are not noise from garbage.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

test("1M items of 100-byte values live in array buffers, not the JS heap", () => {
  const N = 1_000_000;
  const keys = Buffer.alloc(20 * N);
  for (let i = 0; i < N; i++) keys.write(`key:${String(i).padStart(16, "0")}`, i * 20, "latin1");
  const val = Buffer.alloc(100, 0x61);
  const now = 1_700_000_000;
  gc();
  const before = process.memoryUsage();
  const s = new Store({ memoryLimitBytes: 1 << 30, maxItemSize: 1 << 20, hashSeed: 1 });
  for (let i = 0; i < N; i++) {
    const r = s.store(StoreMode.Set, keys, i * 20, i * 20 + 20, val, 0, 100, 0, 0, 0, 0, 0, i, now);
    if (r !== StoreResult.Stored) assert.fail(`store ${i}: ${r}`);
  }
  let hits = 0;
  for (let i = 0; i < N; i += 7) if (s.find(keys, i * 20, i * 20 + 20, now) >= 0) hits++;
  gc();
  const after = process.memoryUsage();
  const st = s.stats(now);
  assert.equal(hits, Math.ceil(N / 7));
  assert.equal(st.currItems, N);
  assert.equal(st.evictions, 0);
  assert.equal(st.bytes, N * (48 + 20 + 100));
  // 168-byte items go to the 192-byte class: about 192 MB of pages, as memcached.
  assert.ok(st.totalMalloced < 210e6, `malloced ${st.totalMalloced}`);
  assert.ok(st.hashBytes <= 8 << 20, `hash ${st.hashBytes}`);
  const heapGrowth = after.heapUsed - before.heapUsed;
  const bufGrowth = after.arrayBuffers - before.arrayBuffers;
  assert.ok(heapGrowth < 8e6, `heap grew by ${heapGrowth}`);
  // The pages are where the bytes went (allowing for other buffers the runtime freed meanwhile).
  assert.ok(bufGrowth >= 0.8 * st.totalMalloced, `array buffers grew by ${bufGrowth}`);
});
