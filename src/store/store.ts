/**
 * The cache store behind `keepcache node`: memcached's storage model (protocol.txt "Commands",
 * items.c, slabs.c, assoc.c) in typed arrays and slab pages. Single-threaded and
 * allocation-free on the hot path: keys and values are (buffer, start, end) ranges, results are
 * handles (valid until the next mutating call) read through the accessors below.
 */
import assert from "node:assert";
import { randomInt } from "node:crypto";
import { StoreCore } from "./core.js";
import { murmur3 } from "./hash.js";
import {
  H_EXPTIME,
  H_FLAGS,
  H_HASH,
  H_META,
  H_VERHI,
  H_VERLO,
  H_VLEN,
  HEADER_BYTES,
  KEY_MAX_LENGTH,
  META_FETCHED,
  META_TOMBSTONE,
} from "./layout.js";
import { buildSlabStats, buildStats, sizeHistogram } from "./report.js";
import {
  type Handle,
  type IncrOut,
  IncrResult,
  NO_ITEM,
  type SlabClassStats,
  StoreMode,
  type StoreOptions,
  StoreResult,
  type StoreStats,
  type TombstoneSpec,
} from "./types.js";
import { addU64, formatU64, parseU64, subFloorU64, type U64 } from "./u64.js";

export class Store extends StoreCore {
  readonly memoryLimitBytes: number;
  readonly maxItemSize: number;
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

  constructor(opts: StoreOptions) {
    assert.ok(opts.memoryLimitBytes > 0 && opts.maxItemSize > 0, "store limits must be positive");
    super(
      opts.memoryLimitBytes,
      opts.maxItemSize,
      opts.growthFactor ?? 1.25,
      opts.hashPower ?? 16,
      opts.hashSeed ?? randomInt(0x7fffffff),
      opts.lruBumpIntervalSeconds ?? 60,
    );
    this.memoryLimitBytes = opts.memoryLimitBytes;
    this.maxItemSize = opts.maxItemSize;
  }

  hashKey(key: Uint8Array, ks: number, ke: number): number {
    return murmur3(key, ks, ke, this.hashSeed);
  }

  /** A live item (not expired, flushed or a tombstone); marks it fetched and bumps its LRU. */
  find(key: Uint8Array, ks: number, ke: number, now: number): Handle {
    this.tick(now);
    const h = this.table.lookup(this.hashKey(key, ks, ke), key, ks, ke);
    if (h === NO_ITEM) return NO_ITEM;
    const a = this.arena;
    const meta = a.get(h, H_META);
    if (this.isExpiredAt(h, now)) {
      if ((meta & META_TOMBSTONE) === 0) this.getExpired++;
      this.unlinkItem(h);
      return NO_ITEM;
    }
    if (this.isFlushed(h)) {
      if ((meta & META_TOMBSTONE) === 0) this.getFlushed++;
      this.unlinkItem(h);
      return NO_ITEM;
    }
    if ((meta & META_TOMBSTONE) !== 0) return NO_ITEM;
    this.touchLru(h, meta, now);
    return h;
  }

  /**
   * The live item with the key, leaving its fetched bit and LRU position alone: meta commands
   * report the state from before this access (mg h, l) and may ask for no bump (mg u).
   */
  peek(key: Uint8Array, ks: number, ke: number, now: number): Handle {
    this.tick(now);
    return this.liveItem(this.hashKey(key, ks, ke), key, ks, ke, now);
  }

  /** Marks an item fetched and, when `bump`, refreshes its LRU position (what find() does). */
  markFetched(h: Handle, now: number, bump: boolean): void {
    const meta = this.arena.get(h, H_META);
    if (bump) this.touchLru(h, meta, now);
    else if ((meta & META_FETCHED) === 0) this.arena.set(h, H_META, meta | META_FETCHED);
  }

  /** Any linked item with the key, tombstones and not-yet-reclaimed expired items included. */
  findAny(key: Uint8Array, ks: number, ke: number): Handle {
    return this.table.lookup(this.hashKey(key, ks, ke), key, ks, ke);
  }

  /** Whether a value of this length is accepted (memcached -I). */
  fits(valueLength: number): boolean {
    return valueLength <= this.maxItemSize;
  }

  /**
   * A storage command (protocol.txt "Storage commands"). exptimeAbs is already normalized
   * (normalizeExptime); casHi/casLo are the expected version for Cas; the new item gets
   * version newVerHi:newVerLo. Append and prepend keep the old item's flags and exptime.
   */
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
  put(
    key: Uint8Array,
    ks: number,
    ke: number,
    valueLength: number,
    flags: number,
    exptimeAbs: number,
    verHi: number,
    verLo: number,
    now: number,
  ): Handle {
    this.tick(now);
    if (valueLength > this.maxItemSize) return NO_ITEM;
    const hash = this.hashKey(key, ks, ke);
    const h = this.allocItem(hash, key, ks, ke, valueLength, flags, exptimeAbs, verHi, verLo, now);
    if (h !== NO_ITEM) this.commit(h, key, ks, ke);
    return h;
  }

  /**
   * Deletes the key; true if a live item was removed. With `tombstone`, the key is left as a
   * tombstone (whether or not an item existed) carrying the delete's version for `ttl` seconds.
   */
  delete(key: Uint8Array, ks: number, ke: number, now: number, tombstone?: TombstoneSpec): boolean {
    this.tick(now);
    const hash = this.hashKey(key, ks, ke);
    const h = this.table.lookup(hash, key, ks, ke);
    const a = this.arena;
    const wasLive =
      h !== NO_ITEM && (a.get(h, H_META) & META_TOMBSTONE) === 0 && !this.isDead(h, now);
    if (tombstone !== undefined && tombstone.ttl > 0) {
      const exp = now + tombstone.ttl;
      const t = this.allocItem(hash, key, ks, ke, 0, 0, exp, tombstone.verHi, tombstone.verLo, now);
      if (t !== NO_ITEM) {
        a.set(t, H_META, a.get(t, H_META) | META_TOMBSTONE);
        this.commit(t, key, ks, ke);
        return wasLive;
      }
    }
    if (wasLive) this.unlinkItem(h);
    else if (h !== NO_ITEM && this.isDead(h, now)) this.unlinkItem(h);
    return wasLive;
  }

  /**
   * incr/decr (protocol.txt "Increment/Decrement") by the 64-bit delta deltaHi:deltaLo. On Ok,
   * incrOut holds the new value and the item whose value is its decimal digits.
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
    if (n === vlen) {
      // Same length: rewrite in place (memcached do_add_delta), new version.
      a.set(h, H_VERHI, newVerHi | 0);
      a.set(h, H_VERLO, newVerLo | 0);
      this.touchLru(h, a.get(h, H_META), now);
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
  flushAll(delaySeconds: number, now: number): void {
    this.tick(now);
    if (delaySeconds <= 0) this.flushNow(now);
    else this.flushLater(now + delaySeconds);
  }

  /** Sets a new absolute exptime (touch, gat). */
  setExptime(h: Handle, exptimeAbs: number): void {
    this.arena.set(h, H_EXPTIME, exptimeAbs);
  }

  /** Sets a new version (e.g. replication re-stamping an item). */
  setVersion(h: Handle, verHi: number, verLo: number): void {
    this.arena.set(h, H_VERHI, verHi | 0);
    this.arena.set(h, H_VERLO, verLo | 0);
  }

  /**
   * Visits up to about `count` live items from `cursor` (start with 0) and returns the next
   * cursor, 0 when done. Items present for the whole walk are visited at least once, exactly
   * once if the index does not grow meanwhile; mutations between calls are allowed. `cb` must
   * not mutate the store.
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
  counters(): {
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
  } {
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

  private touchLru(h: Handle, meta: number, now: number): void {
    const a = this.arena;
    if ((meta & META_FETCHED) === 0) a.set(h, H_META, meta | META_FETCHED);
    if (now - this.lastAccess(h) >= this.bumpInterval) {
      this.lru.bump(a.classOf(h), h);
      this.stamp(h, now);
    }
  }

  /** The live item with the key, dropping it first if it is expired or flushed. */
  private liveItem(hash: number, key: Uint8Array, ks: number, ke: number, now: number): Handle {
    const h = this.table.lookup(hash, key, ks, ke);
    if (h === NO_ITEM) return NO_ITEM;
    if (this.isDead(h, now)) {
      this.unlinkItem(h);
      return NO_ITEM;
    }
    return (this.arena.get(h, H_META) & META_TOMBSTONE) !== 0 ? NO_ITEM : h;
  }

  private dropLive(hash: number, key: Uint8Array, ks: number, ke: number, now: number): void {
    const h = this.liveItem(hash, key, ks, ke, now);
    if (h !== NO_ITEM) this.unlinkItem(h);
  }

  private allocItem(
    hash: number,
    key: Uint8Array,
    ks: number,
    ke: number,
    vlen: number,
    flags: number,
    exptime: number,
    verHi: number,
    verLo: number,
    now: number,
  ): Handle {
    const klen = ke - ks;
    assert.ok(klen > 0 && klen <= KEY_MAX_LENGTH, "key length out of range");
    const c = this.arena.classFor(HEADER_BYTES + klen + vlen);
    if (c < 0) return NO_ITEM;
    const h = this.allocChunk(c, now);
    if (h === NO_ITEM) return NO_ITEM;
    this.initItem(h, hash, key, ks, ke, vlen, flags, exptime, verHi, verLo, now, false);
    return h;
  }

  /** Links a new item in place of any item with the same key (memcached do_item_replace). */
  private commit(h: Handle, key: Uint8Array, ks: number, ke: number): void {
    const old = this.table.lookup(this.arena.get(h, H_HASH), key, ks, ke);
    if (old !== NO_ITEM) this.unlinkItem(old);
    this.linkItem(h);
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
