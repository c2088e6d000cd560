/**
 * The store's lookups and plain writes (find, peek, put, delete, flush, touch) and the helpers
 * every write path shares. `Store` (store.ts) adds the memcached storage commands, incr/decr and
 * the reports on top. Keys and values are (buffer, start, end) ranges; results are handles
 * (valid until the next mutating call) read through ItemView's accessors.
 */
import assert from "node:assert";
import { randomInt } from "node:crypto";
import { StoreCore } from "./core.js";
import { murmur3 } from "./hash.js";
import {
  H_EXPTIME,
  H_HASH,
  H_META,
  H_VERHI,
  H_VERLO,
  HEADER_BYTES,
  KEY_MAX_LENGTH,
  META_FETCHED,
  META_TOMBSTONE,
} from "./layout.js";
import { type Handle, NO_ITEM, type StoreOptions, type TombstoneSpec } from "./types.js";

export class StoreBase extends StoreCore {
  readonly memoryLimitBytes: number;
  readonly maxItemSize: number;

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
  protected touchLru(h: Handle, meta: number, now: number): void {
    const a = this.arena;
    if ((meta & META_FETCHED) === 0) a.set(h, H_META, meta | META_FETCHED);
    if (now - this.lastAccess(h) >= this.bumpInterval) {
      this.lru.bump(a.classOf(h), h);
      this.stamp(h, now);
    }
  }

  /** The live item with the key, dropping it first if it is expired or flushed. */
  protected liveItem(hash: number, key: Uint8Array, ks: number, ke: number, now: number): Handle {
    const h = this.table.lookup(hash, key, ks, ke);
    if (h === NO_ITEM) return NO_ITEM;
    if (this.isDead(h, now)) {
      this.unlinkItem(h);
      return NO_ITEM;
    }
    return (this.arena.get(h, H_META) & META_TOMBSTONE) !== 0 ? NO_ITEM : h;
  }

  protected dropLive(hash: number, key: Uint8Array, ks: number, ke: number, now: number): void {
    const h = this.liveItem(hash, key, ks, ke, now);
    if (h !== NO_ITEM) this.unlinkItem(h);
  }

  protected allocItem(
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
  protected commit(h: Handle, key: Uint8Array, ks: number, ke: number): void {
    const old = this.table.lookup(this.arena.get(h, H_HASH), key, ks, ke);
    if (old !== NO_ITEM) this.unlinkItem(old);
    this.linkItem(h);
  }
}
