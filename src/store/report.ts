/**
 * Builds the store's `stats`, `stats slabs` / `stats items` and `stats sizes` figures
 * (memcached doc/protocol.txt "General-purpose statistics", "Slab statistics", "Item
 * statistics", "Item size statistics"). Not on the hot path: plain objects are fine here.
 */
import type { ClassCounters } from "./core.js";
import { H_META, H_NEXT, H_TIME, H_VLEN, HEADER_BYTES, META_KEYLEN_MASK } from "./layout.js";
import type { LruLists } from "./lru.js";
import type { SlabArena } from "./slabs.js";
import type { HashTable } from "./table.js";
import { type Handle, NO_ITEM, type SlabClassStats, type StoreStats } from "./types.js";

/** The store's running counters, as `stats` reports them. */
export interface StoreCounters {
  currItems: number;
  totalItems: number;
  bytes: number;
  evictions: number;
  expiredUnfetched: number;
  evictedUnfetched: number;
  reclaimed: number;
  tombstones: number;
  getExpired: number;
  getFlushed: number;
  slabsMoved: number;
  outOfMemory: number;
}

/** What buildStats reads from the store (an interface, so this file does not import store.ts). */
export interface CountersSource {
  readonly memoryLimitBytes: number;
  counters(): StoreCounters;
}

export function buildStats(store: CountersSource, arena: SlabArena, table: HashTable): StoreStats {
  const c = store.counters();
  return {
    ...c,
    limitMaxbytes: store.memoryLimitBytes,
    totalPages: arena.totalPages,
    pageSize: arena.pageSize,
    totalMalloced: arena.totalPages * arena.pageSize,
    hashBytes: table.bytes,
    hashPowerLevel: table.hashPower,
    hashIsExpanding: table.expanding,
  };
}

export function buildSlabStats(
  arena: SlabArena,
  lru: LruLists,
  cls: ClassCounters,
  now: number,
): SlabClassStats[] {
  const out: SlabClassStats[] = [];
  for (let c = 0; c < arena.nClasses; c++) {
    const pages = arena.classPages[c];
    if (pages === 0 && cls.evicted[c] === 0 && lru.size[c] === 0) continue;
    const perPage = arena.classPerPage[c];
    const total = pages * perPage;
    const freeEnd = arena.uncarved(c);
    const free = arena.freeCount[c];
    const tail = lru.tail[c];
    out.push({
      id: c + 1,
      chunkSize: arena.classSize[c],
      chunksPerPage: perPage,
      totalPages: pages,
      totalChunks: total,
      usedChunks: total - free - freeEnd,
      freeChunks: free,
      freeChunksEnd: freeEnd,
      items: cls.items[c],
      tombstones: cls.tombs[c],
      age: tail === NO_ITEM ? 0 : now - arena.get(tail, H_TIME),
      evicted: cls.evicted[c],
      evictedUnfetched: cls.evictedUnfetched[c],
      evictedTime: cls.evictedTime[c],
      reclaimed: cls.reclaimed[c],
      expiredUnfetched: cls.expiredUnfetched[c],
      outOfMemory: cls.oom[c],
    });
  }
  return out;
}

/** memcached items.c item_stats_sizes: bucket = total size rounded up to 32 bytes. */
export function sizeHistogram(
  arena: SlabArena,
  lru: LruLists,
  isDead: (h: Handle) => boolean,
): Map<number, number> {
  const hist = new Map<number, number>();
  for (let c = 0; c < arena.nClasses; c++) {
    for (let h = lru.head[c]; h !== NO_ITEM; h = arena.get(h, H_NEXT)) {
      if (isDead(h)) continue;
      const size = itemTotal(arena, h);
      const bucket = Math.ceil(size / 32) * 32;
      hist.set(bucket, (hist.get(bucket) ?? 0) + 1);
    }
  }
  return new Map([...hist.entries()].sort((x, y) => x[0] - y[0]));
}

function itemTotal(arena: SlabArena, h: Handle): number {
  return HEADER_BYTES + (arena.get(h, H_META) & META_KEYLEN_MASK) + arena.get(h, H_VLEN);
}
