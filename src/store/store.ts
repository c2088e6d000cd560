import { H_EXPTIME, H_FLAGS, H_META, H_VERHI, H_VERLO, H_VLEN } from "./layout.js";
import { buildSlabStats, buildStats, type StoreCounters, sizeHistogram } from "./report.js";
import { StoreBase } from "./store-base.js";
import {
  type Handle,
  type IncrOut,
  IncrResult,
  NO_ITEM,
  type SlabClassStats,
  StoreMode,
  StoreResult,
  type StoreStats,
} from "./types.js";
import { addU64, formatU64, parseU64, subFloorU64, type U64 } from "./u64.js";

export class Store extends StoreBase {
  /** incrDecr's result, reused on every call. */
  readonly incrOut: IncrOut = { hi: 0, lo: 0, handle: NO_ITEM };
  private readonly num: U64 = { hi: 0, lo: 0 };
  private readonly digits = new Uint8Array(20);
  private scanCb: (h: Handle) => void = () => {};
  private scanNow = 0;
  private scanTombs = false;
  private scanEmitted = 0;
  private readonly scanEmit = (h: Handle): void => {
    if (this.isDead(h, this.scanNow)) return;
    if (!this.scanTombs && this.isTombstone(h)) return;
    this.scanEmitted++;
    this.scanCb(h);
  };

  store(
    mode: StoreMode,
    key: Uint8Array,
    ks: number,
    ke: number,
    val: Buffer,
    vs: number,
    ve: number,
    flags: number,
    exptimeAbs: number,
    casHi: number,
    casLo: number,
    newVerHi: number,
    newVerLo: number,
    now: number,
  ): StoreResult {
    this.tick(now);
    const hash = this.hashKey(key, ks, ke);
    const live = this.liveItem(hash, key, ks, ke, now);
    const vlen = ve - vs;
    const a = this.arena;
    switch (mode) {
      case StoreMode.Add:
        if (live !== NO_ITEM) {
          // memcached do_store_item: a failed add still refreshes the item's LRU position.
          this.touchLru(live, a.get(live, H_META), now);
          return StoreResult.NotStored;
        }
        break;
      case StoreMode.Replace:
      case StoreMode.Append:
      case StoreMode.Prepend:
        if (live === NO_ITEM) return StoreResult.NotStored;
        break;
      case StoreMode.Cas:
        if (live === NO_ITEM) return StoreResult.NotFound;
        if (
          a.get(live, H_VERHI) >>> 0 !== casHi >>> 0 ||
          a.get(live, H_VERLO) >>> 0 !== casLo >>> 0
        ) {
          return StoreResult.Exists;
        }
        break;
      default:
        break;
    }
    if (mode === StoreMode.Append || mode === StoreMode.Prepend) {
      return this.concat(mode, hash, key, ks, ke, live, val, vs, ve, newVerHi, newVerLo, now);
    }
    if (vlen > this.maxItemSize) {
      // memcached process_update_command: a failed set must not leave stale data behind.
      if (mode === StoreMode.Set && live !== NO_ITEM) this.unlinkItem(live);
      return StoreResult.TooLarge;
    }
    if (exptimeAbs !== 0 && exptimeAbs <= now) {
      // Stored already expired (negative exptime): the old value simply disappears.
      if (live !== NO_ITEM) this.unlinkItem(live);
      this.totalItems++;
      return StoreResult.Stored;
    }
    const h = this.allocItem(hash, key, ks, ke, vlen, flags, exptimeAbs, newVerHi, newVerLo, now);
    if (h === NO_ITEM) {
      if (mode === StoreMode.Set) this.dropLive(hash, key, ks, ke, now);
      return StoreResult.NoMemory;
    }
    val.copy(a.buffer(h), this.valueStart(h), vs, ve);
    this.commit(h, key, ks, ke);
    return StoreResult.Stored;
  }

  /**
   * Allocates and links an item, replacing any item with the key, and returns its handle; the
   * caller then writes valueLength bytes at valueBuffer(h)[valueStart(h)..]. NO_ITEM if the
   * item is too large or no memory could be freed. For incr/decr results and replication.
   */
  incrDecr(
    key: Uint8Array,
    ks: number,
    ke: number,
    incr: boolean,
    deltaHi: number,
    deltaLo: number,
    now: number,
    newVerHi: number,
    newVerLo: number,
  ): IncrResult {
    this.tick(now);
    const hash = this.hashKey(key, ks, ke);
    const h = this.liveItem(hash, key, ks, ke, now);
    if (h === NO_ITEM) return IncrResult.NotFound;
    const a = this.arena;
    const buf = a.buffer(h);
    const vs = this.valueStart(h);
    const vlen = a.get(h, H_VLEN);
    const num = this.num;
    if (!parseU64(buf, vs, vs + vlen, num)) return IncrResult.NonNumeric;
    if (incr) addU64(num.hi, num.lo, deltaHi >>> 0, deltaLo >>> 0, num);
    else subFloorU64(num.hi, num.lo, deltaHi >>> 0, deltaLo >>> 0, num);
    const n = formatU64(num.hi, num.lo, this.digits);
    let target = h;
    let width = n;
    if (n <= vlen) {
      // memcached do_add_delta: a result that fits is written in place, padded with spaces to
      // the old length ("100" decr 95 is "5  "; past 2^64 "0" keeps 20 bytes), new version.
      a.set(h, H_VERHI, newVerHi | 0);
      a.set(h, H_VERLO, newVerLo | 0);
      this.touchLru(h, a.get(h, H_META), now);
      width = vlen;
    } else {
      const flags = a.get(h, H_FLAGS);
      const exp = a.get(h, H_EXPTIME);
      target = this.allocItem(hash, key, ks, ke, n, flags, exp, newVerHi, newVerLo, now);
      if (target === NO_ITEM) return IncrResult.NoMemory;
      this.commit(target, key, ks, ke);
    }
    const out = a.buffer(target);
    const o = this.valueStart(target);
    for (let i = 0; i < n; i++) out[o + i] = this.digits[i];
    out.fill(0x20, o + n, o + width);
    this.incrOut.hi = num.hi;
    this.incrOut.lo = num.lo;
    this.incrOut.handle = target;
    return IncrResult.Ok;
  }

  /**
   * flush_all [delay] (protocol.txt "flush_all"): items stored up to `delaySeconds` from now
   * become invalid then, in O(1): they are dropped lazily when met. Callers convert an
   * absolute-time argument with normalizeExptime(x, now) - now.
   */
  scan(
    cursor: number,
    count: number,
    now: number,
    cb: (h: Handle) => void,
    includeTombstones = false,
  ): number {
    this.tick(now);
    this.scanCb = cb;
    this.scanNow = now;
    this.scanTombs = includeTombstones;
    this.scanEmitted = 0;
    const maxBuckets = Math.max(1, count) * 16;
    let buckets = 0;
    do {
      cursor = this.table.scanStep(cursor, this.scanEmit);
      buckets++;
    } while (cursor !== 0 && this.scanEmitted < count && buckets < maxBuckets);
    this.scanCb = () => {};
    return cursor;
  }

  stats(now: number): StoreStats {
    this.tick(now);
    return buildStats(this, this.arena, this.table);
  }

  /** Per slab class figures for `stats slabs` / `stats items` (classes holding pages). */
  slabStats(now: number): SlabClassStats[] {
    return buildSlabStats(this.arena, this.lru, this.cls, now);
  }

  /** `stats sizes`: item count per 32-byte size bucket (walks every item, as memcached did). */
  sizes(now: number): Map<number, number> {
    return sizeHistogram(this.arena, this.lru, (h) => this.isDead(h, now));
  }

  /** Counters for report.ts. */
  counters(): StoreCounters {
    return {
      currItems: this.currItems,
      totalItems: this.totalItems,
      bytes: this.bytes,
      evictions: this.evictions,
      expiredUnfetched: this.expiredUnfetched,
      evictedUnfetched: this.evictedUnfetched,
      reclaimed: this.reclaimed,
      tombstones: this.tombstones,
      getExpired: this.getExpired,
      getFlushed: this.getFlushed,
      slabsMoved: this.slabsMoved,
      outOfMemory: this.outOfMemory,
    };
  }

  private concat(
    mode: StoreMode,
    hash: number,
    key: Uint8Array,
    ks: number,
    ke: number,
    old: Handle,
    val: Buffer,
    vs: number,
    ve: number,
    verHi: number,
    verLo: number,
    now: number,
  ): StoreResult {
    const a = this.arena;
    const oldLen = a.get(old, H_VLEN);
    const addLen = ve - vs;
    if (oldLen + addLen > this.maxItemSize) return StoreResult.TooLarge;
    const flags = a.get(old, H_FLAGS);
    const exp = a.get(old, H_EXPTIME);
    this.pinned = old;
    const h = this.allocItem(hash, key, ks, ke, oldLen + addLen, flags, exp, verHi, verLo, now);
    this.pinned = NO_ITEM;
    if (h === NO_ITEM) return StoreResult.NoMemory;
    const dst = a.buffer(h);
    const d = this.valueStart(h);
    const os = this.valueStart(old);
    if (mode === StoreMode.Append) {
      a.buffer(old).copy(dst, d, os, os + oldLen);
      val.copy(dst, d + oldLen, vs, ve);
    } else {
      val.copy(dst, d, vs, ve);
      a.buffer(old).copy(dst, d + addLen, os, os + oldLen);
    }
    this.commit(h, key, ks, ke);
    return StoreResult.Stored;
  }
}
