/**
 * The store's machinery below the public API: item headers, linking into the index and the
 * LRUs, expiry and flush_all checks, and finding a chunk for a new item (free list, new page,
 * LRU tail reclaim or eviction, slab page reassignment). memcached items.c / slabs.c.
 */
import assert from "node:assert";
import { ItemView } from "./item-view.js";
import {
  CHUNK_BITS,
  CHUNK_MASK,
  H_EXPTIME,
  H_FLAGS,
  H_HASH,
  H_HNEXT,
  H_META,
  H_PREV,
  H_SEQ,
  H_TIME,
  H_VERHI,
  H_VERLO,
  H_VLEN,
  HEADER_BYTES,
  HEADER_WORDS,
  META_FETCHED,
  META_KEYLEN_MASK,
  META_LINKED,
  META_TOMBSTONE,
} from "./layout.js";
import { LruLists } from "./lru.js";
import { SlabArena } from "./slabs.js";
import { HashTable } from "./table.js";
import { type Handle, NO_ITEM } from "./types.js";

/** memcached lru_pull_tail looks this many items up from the tail for an expired one. */
const TAIL_SEARCH = 5;

/** Per slab class counters, indexed by class id. */
export interface ClassCounters {
  items: Float64Array;
  tombs: Float64Array;
  evicted: Float64Array;
  evictedUnfetched: Float64Array;
  evictedTime: Float64Array;
  reclaimed: Float64Array;
  expiredUnfetched: Float64Array;
  oom: Float64Array;
  lastBalance: Float64Array;
}

export class StoreCore extends ItemView {
  protected readonly table: HashTable;
  protected readonly lru: LruLists;
  /** An item the current operation still reads (append source); never evicted meanwhile. */
  protected pinned: Handle = NO_ITEM;
  private seq = 0;
  // flush_all state (memcached settings.oldest_live / oldest_cas): items stamped before
  // (flushTime, flushSeq) are invalid. A delayed flush waits in pendingFlushAt.
  private flushActive = false;
  private flushTime = 0;
  private flushSeq = 0;
  private pendingFlushAt = Number.POSITIVE_INFINITY;

  protected currItems = 0;
  protected tombstones = 0;
  protected bytes = 0;
  protected totalItems = 0;
  protected evictions = 0;
  protected evictedUnfetched = 0;
  protected expiredUnfetched = 0;
  protected reclaimed = 0;
  protected getExpired = 0;
  protected getFlushed = 0;
  protected slabsMoved = 0;
  protected outOfMemory = 0;
  protected readonly cls: ClassCounters;

  constructor(
    memoryLimitBytes: number,
    maxItemSize: number,
    growthFactor: number,
    hashPower: number,
    protected readonly hashSeed: number,
    protected readonly bumpInterval: number,
  ) {
    // The largest item: header, a 250-byte key and the largest value must fit one chunk.
    super(new SlabArena(memoryLimitBytes, HEADER_BYTES + 250 + maxItemSize, growthFactor));
    this.table = new HashTable(this.arena, hashPower);
    const n = this.arena.nClasses;
    this.lru = new LruLists(this.arena, n);
    const f = () => new Float64Array(n);
    this.cls = {
      items: f(),
      tombs: f(),
      evicted: f(),
      evictedUnfetched: f(),
      evictedTime: f(),
      reclaimed: f(),
      expiredUnfetched: f(),
      oom: f(),
      lastBalance: f().fill(-1),
    };
  }

  /** Activates a delayed flush_all once its time has come; called with every `now`. */
  protected tick(now: number): void {
    if (now >= this.pendingFlushAt) this.flushNow(now);
  }

  protected flushNow(now: number): void {
    this.flushActive = true;
    this.flushTime = now;
    this.flushSeq = this.seq;
    this.pendingFlushAt = Number.POSITIVE_INFINITY;
  }

  protected flushLater(at: number): void {
    this.pendingFlushAt = at;
  }

  /** memcached item_is_flushed: stamped at or before the flush point. */
  protected isFlushed(h: Handle): boolean {
    if (!this.flushActive) return false;
    const t = this.arena.get(h, H_TIME);
    if (t < this.flushTime) return true;
    // Same second: the sequence decides (wrap-safe: items of one second are close in seq).
    return t === this.flushTime && ((this.arena.get(h, H_SEQ) - this.flushSeq) | 0) <= 0;
  }

  protected isExpiredAt(h: Handle, now: number): boolean {
    const e = this.arena.get(h, H_EXPTIME);
    return e !== 0 && e <= now;
  }

  protected isDead(h: Handle, now: number): boolean {
    return this.isExpiredAt(h, now) || this.isFlushed(h);
  }

  protected stamp(h: Handle, now: number): void {
    this.seq = (this.seq + 1) | 0;
    this.arena.set(h, H_TIME, now);
    this.arena.set(h, H_SEQ, this.seq);
  }

  /** Writes a fresh header and the key into an allocated chunk (not yet linked). */
  protected initItem(
    h: Handle,
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
    tombstone: boolean,
  ): void {
    const a = this.arena;
    const p = h >>> CHUNK_BITS;
    const w = a.words[p];
    const b = (h & CHUNK_MASK) * a.chunkWords[p];
    w[b + H_HNEXT] = NO_ITEM;
    w[b + H_HASH] = hash | 0;
    w[b + H_VLEN] = vlen;
    w[b + H_FLAGS] = flags | 0;
    w[b + H_EXPTIME] = exptime;
    w[b + H_VERHI] = verHi | 0;
    w[b + H_VERLO] = verLo | 0;
    w[b + H_META] = (ke - ks) | (tombstone ? META_TOMBSTONE : 0);
    this.stamp(h, now);
    const buf = a.bufs[p];
    let o = (b + HEADER_WORDS) * 4;
    for (let i = ks; i < ke; i++) buf[o++] = key[i];
  }

  protected itemBytes(h: Handle): number {
    const a = this.arena;
    return HEADER_BYTES + (a.get(h, H_META) & META_KEYLEN_MASK) + a.get(h, H_VLEN);
  }

  /** memcached do_item_link: into the index and the head of its class's LRU. */
  protected linkItem(h: Handle): void {
    const a = this.arena;
    const meta = a.get(h, H_META);
    assert.ok((meta & META_LINKED) === 0, "linking a linked item");
    a.set(h, H_META, meta | META_LINKED);
    const c = a.classOf(h);
    this.table.insert(h, a.get(h, H_HASH));
    this.lru.pushHead(c, h);
    this.bytes += this.itemBytes(h);
    if ((meta & META_TOMBSTONE) !== 0) {
      this.tombstones++;
      this.cls.tombs[c]++;
    } else {
      this.currItems++;
      this.totalItems++;
      this.cls.items[c]++;
    }
  }

  /** memcached do_item_unlink + free: out of the index and LRU, chunk back to its class. */
  protected unlinkItem(h: Handle): void {
    const a = this.arena;
    const meta = a.get(h, H_META);
    assert.ok((meta & META_LINKED) !== 0, "unlinking an unlinked item");
    const c = a.classOf(h);
    this.table.remove(h, a.get(h, H_HASH));
    this.lru.remove(c, h);
    this.bytes -= this.itemBytes(h);
    if ((meta & META_TOMBSTONE) !== 0) {
      this.tombstones--;
      this.cls.tombs[c]--;
    } else {
      this.currItems--;
      this.cls.items[c]--;
    }
    a.set(h, H_META, meta & ~META_LINKED);
    a.free(h);
  }

  /** Counts and removes a dead item found at the LRU tail or in a reassigned page. */
  private reclaimItem(h: Handle, c: number, now: number): void {
    const meta = this.arena.get(h, H_META);
    if ((meta & META_TOMBSTONE) === 0) {
      this.reclaimed++;
      this.cls.reclaimed[c]++;
      if ((meta & META_FETCHED) === 0 && this.isExpiredAt(h, now)) {
        this.expiredUnfetched++;
        this.cls.expiredUnfetched[c]++;
      }
    }
    this.unlinkItem(h);
  }

  private evictItem(h: Handle, c: number, now: number): void {
    const a = this.arena;
    const meta = a.get(h, H_META);
    if ((meta & META_TOMBSTONE) === 0) {
      this.evictions++;
      this.cls.evicted[c]++;
      this.cls.evictedTime[c] = now - a.get(h, H_TIME);
      if ((meta & META_FETCHED) === 0) {
        this.evictedUnfetched++;
        this.cls.evictedUnfetched[c]++;
      }
    }
    this.unlinkItem(h);
  }

  /**
   * A chunk for an item of `total` bytes (memcached do_item_alloc): the class's free list or a
   * new page, else reclaim or evict at the class's LRU tail, else take a page from another
   * class. NO_ITEM when nothing can be freed.
   */
  protected allocChunk(c: number, now: number): Handle {
    const a = this.arena;
    let h = a.alloc(c);
    if (h !== NO_ITEM) return h;
    h = this.pullTail(c, now);
    if (h !== NO_ITEM) return h;
    if (this.reassignPage(c, Number.POSITIVE_INFINITY, 1, now)) {
      h = a.alloc(c);
      if (h !== NO_ITEM) return h;
    }
    this.outOfMemory++;
    this.cls.oom[c]++;
    return NO_ITEM;
  }

  private pullTail(c: number, now: number): Handle {
    const a = this.arena;
    let victim = NO_ITEM;
    let h = this.lru.tail[c];
    for (let tries = 0; h !== NO_ITEM && tries < TAIL_SEARCH; tries++) {
      const prev = a.get(h, H_PREV);
      if (h !== this.pinned) {
        if (this.isDead(h, now)) {
          this.reclaimItem(h, c, now);
          return a.alloc(c);
        }
        if (victim === NO_ITEM) victim = h;
      }
      h = prev;
    }
    if (victim === NO_ITEM) return NO_ITEM;
    // Age balancing (memcached slab_automove): at most once a second per class, if another
    // class's oldest item is older than ours, take that class a page instead of evicting.
    if (this.cls.lastBalance[c] !== now) {
      this.cls.lastBalance[c] = now;
      if (this.reassignPage(c, a.get(victim, H_TIME), 2, now)) {
        const g = a.alloc(c);
        if (g !== NO_ITEM) return g;
      }
    }
    this.evictItem(victim, c, now);
    return a.alloc(c);
  }

  /**
   * memcached slab_reassign: empties one page of the class whose LRU tail is oldest (older
   * than `olderThan`, among classes with at least `minPages` pages) and gives it to class `to`.
   */
  protected reassignPage(to: number, olderThan: number, minPages: number, now: number): boolean {
    const a = this.arena;
    if (a.freeHead[to] !== NO_ITEM || a.endPage[to] >= 0) return false;
    const pinnedPage = this.pinned === NO_ITEM ? -1 : this.pinned >>> CHUNK_BITS;
    let donor = -1;
    let donorAge = olderThan;
    for (let d = 0; d < a.nClasses; d++) {
      if (d === to || a.classPages[d] < minPages) continue;
      const t = this.lru.tail[d];
      // A class holding pages but no items is the best donor of all.
      const age = t === NO_ITEM ? Number.NEGATIVE_INFINITY : a.get(t, H_TIME);
      if (age < donorAge) {
        donor = d;
        donorAge = age;
      }
    }
    if (donor < 0) return false;
    const page = this.pickPage(donor, pinnedPage);
    if (page < 0) return false;
    const n = a.carvedChunks(page);
    for (let i = 0; i < n; i++) {
      const h = (page << CHUNK_BITS) | i;
      if ((a.get(h, H_META) & META_LINKED) === 0) continue;
      if (this.isDead(h, now)) this.reclaimItem(h, donor, now);
      else this.evictItem(h, donor, now);
    }
    a.detachPage(page);
    a.attachPage(page, to);
    this.slabsMoved++;
    return true;
  }

  /** The page of the donor's LRU tail (likely its coldest), else any of its pages. */
  private pickPage(donor: number, avoid: number): number {
    const a = this.arena;
    const t = this.lru.tail[donor];
    if (t !== NO_ITEM && t >>> CHUNK_BITS !== avoid) return t >>> CHUNK_BITS;
    for (let p = 0; p < a.totalPages; p++) if (a.pageClass[p] === donor && p !== avoid) return p;
    return -1;
  }
}
