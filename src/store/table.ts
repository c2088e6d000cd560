/**
 * The key index: memcached's assoc.c. A power-of-two array of chain heads (handles), chained
 * through each item's H_HNEXT word. When items exceed 1.5x the buckets the table doubles, and
 * like assoc.c's expansion it moves the old buckets over a few at a time (on each insert) rather
 * than all at once, so a million-item table never stops the server to rehash.
 */
import {
  CHUNK_BITS,
  CHUNK_MASK,
  H_HASH,
  H_HNEXT,
  H_META,
  HEADER_WORDS,
  META_KEYLEN_MASK,
} from "./layout.js";
import type { SlabArena } from "./slabs.js";
import { type Handle, NO_ITEM } from "./types.js";

/** Buckets moved per insert while expanding: enough to finish before the next doubling. */
const MIGRATE_PER_INSERT = 4;

export class HashTable {
  private primary: Int32Array;
  private mask: number;
  /** During expansion: the half-size table, buckets below expandBucket already moved. */
  private old: Int32Array | null = null;
  private oldMask = 0;
  private expandBucket = 0;
  count = 0;
  hashPower: number;
  /** Bucket choice of the last locate(), kept in fields so lookups allocate nothing. */
  private selTable: Int32Array;
  private selIndex = 0;

  constructor(
    private readonly arena: SlabArena,
    hashPower: number,
  ) {
    this.hashPower = hashPower;
    this.primary = new Int32Array(1 << hashPower).fill(NO_ITEM);
    this.mask = (1 << hashPower) - 1;
    this.selTable = this.primary;
  }

  get expanding(): boolean {
    return this.old !== null;
  }

  get bytes(): number {
    return this.primary.byteLength + (this.old === null ? 0 : this.old.byteLength);
  }

  /** assoc.c assoc_find: which table holds the bucket for this hash. */
  private locate(hash: number): void {
    const old = this.old;
    if (old !== null && (hash & this.oldMask) >>> 0 >= this.expandBucket) {
      this.selTable = old;
      this.selIndex = hash & this.oldMask;
    } else {
      this.selTable = this.primary;
      this.selIndex = hash & this.mask;
    }
  }

  /** The item with this hash and key, or NO_ITEM. */
  lookup(hash: number, key: Uint8Array, ks: number, ke: number): Handle {
    this.locate(hash);
    const arena = this.arena;
    const words = arena.words;
    const chunkWords = arena.chunkWords;
    const bufs = arena.bufs;
    const klen = ke - ks;
    let h = this.selTable[this.selIndex];
    while (h !== NO_ITEM) {
      const p = h >>> CHUNK_BITS;
      const w = words[p];
      const b = (h & CHUNK_MASK) * chunkWords[p];
      if (w[b + H_HASH] === (hash | 0) && (w[b + H_META] & META_KEYLEN_MASK) === klen) {
        const buf = bufs[p];
        let o = (b + HEADER_WORDS) * 4;
        let i = ks;
        while (i < ke && buf[o] === key[i]) {
          o++;
          i++;
        }
        if (i === ke) return h;
      }
      h = w[b + H_HNEXT];
    }
    return NO_ITEM;
  }

  insert(h: Handle, hash: number): void {
    this.locate(hash);
    this.arena.set(h, H_HNEXT, this.selTable[this.selIndex]);
    this.selTable[this.selIndex] = h;
    this.count++;
    if (this.old !== null) this.migrate(MIGRATE_PER_INSERT);
    else if (this.count > this.primary.length * 1.5 && this.hashPower < 30) this.startExpand();
  }

  remove(h: Handle, hash: number): void {
    this.locate(hash);
    const t = this.selTable;
    const i = this.selIndex;
    const arena = this.arena;
    let cur = t[i];
    if (cur === h) {
      t[i] = arena.get(h, H_HNEXT);
    } else {
      let prev = cur;
      cur = arena.get(prev, H_HNEXT);
      while (cur !== h) {
        if (cur === NO_ITEM) throw new Error("store index: removing an item that is not linked");
        prev = cur;
        cur = arena.get(prev, H_HNEXT);
      }
      arena.set(prev, H_HNEXT, arena.get(h, H_HNEXT));
    }
    this.count--;
  }

  private startExpand(): void {
    this.old = this.primary;
    this.oldMask = this.mask;
    this.expandBucket = 0;
    this.hashPower++;
    this.primary = new Int32Array(1 << this.hashPower).fill(NO_ITEM);
    this.mask = (1 << this.hashPower) - 1;
  }

  /** assoc.c assoc_maintenance_thread: move `n` old buckets' chains into the new table. */
  private migrate(n: number): void {
    const old = this.old;
    if (old === null) return;
    const arena = this.arena;
    const primary = this.primary;
    const mask = this.mask;
    for (let k = 0; k < n && this.expandBucket < old.length; k++) {
      let h = old[this.expandBucket];
      while (h !== NO_ITEM) {
        const next = arena.get(h, H_HNEXT);
        const b = arena.get(h, H_HASH) & mask;
        arena.set(h, H_HNEXT, primary[b]);
        primary[b] = h;
        h = next;
      }
      old[this.expandBucket] = NO_ITEM;
      this.expandBucket++;
    }
    if (this.expandBucket === old.length) this.old = null;
  }

  /**
   * One step of a cursor walk over every bucket (Redis dict.c dictScan): the cursor counts in
   * bit-reversed order, so buckets visited before a doubling map to buckets still "behind" the
   * cursor afterwards. Each key present for the whole walk is seen at least once, and exactly
   * once unless the table grows mid-walk. Calls `emit` for each handle in the visited buckets
   * and returns the next cursor; 0 means the walk is complete.
   */
  scanStep(cursor: number, emit: (h: Handle) => void): number {
    let v = cursor >>> 0;
    const old = this.old;
    if (old === null) {
      this.emitChain(this.primary[v & this.mask], emit);
      v = (v | ~this.mask) >>> 0;
      return rev32((rev32(v) + 1) >>> 0);
    }
    const m0 = this.oldMask;
    const m1 = this.mask;
    if ((v & m0) >>> 0 >= this.expandBucket) this.emitChain(old[v & m0], emit);
    do {
      this.emitChain(this.primary[v & m1], emit);
      v = (v | ~m1) >>> 0;
      v = rev32((rev32(v) + 1) >>> 0);
    } while ((v & (m0 ^ m1)) !== 0);
    return v;
  }

  private emitChain(h: Handle, emit: (h: Handle) => void): void {
    const arena = this.arena;
    while (h !== NO_ITEM) {
      const next = arena.get(h, H_HNEXT);
      emit(h);
      h = next;
    }
  }
}

function rev32(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  v = (v >>> 16) | (v << 16);
  return v >>> 0;
}
