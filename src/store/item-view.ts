/**
 * Read access to an item by handle: the fields of its header (layout.ts) and where its key
 * and value bytes sit, so the server can copy values straight from the page into its output.
 * Base class of the store; a handle is valid only until the next mutating store call.
 */
import {
  CHUNK_BITS,
  CHUNK_MASK,
  H_EXPTIME,
  H_FLAGS,
  H_META,
  H_TIME,
  H_VERHI,
  H_VERLO,
  H_VLEN,
  HEADER_BYTES,
  HEADER_WORDS,
  META_FETCHED,
  META_KEYLEN_MASK,
  META_LINKED,
  META_STALE,
  META_TOKEN_SENT,
  META_TOMBSTONE,
} from "./layout.js";
import type { SlabArena } from "./slabs.js";
import type { Handle } from "./types.js";

export class ItemView {
  constructor(protected readonly arena: SlabArena) {}

  /** Client flags (uint32). */
  flags(h: Handle): number {
    return this.arena.get(h, H_FLAGS) >>> 0;
  }

  /** Absolute exptime in seconds, 0 = never. */
  exptime(h: Handle): number {
    return this.arena.get(h, H_EXPTIME);
  }

  /** Version (= CAS) high and low uint32 halves. */
  verHi(h: Handle): number {
    return this.arena.get(h, H_VERHI) >>> 0;
  }

  verLo(h: Handle): number {
    return this.arena.get(h, H_VERLO) >>> 0;
  }

  /** Last access time in seconds (metadump "la"). */
  lastAccess(h: Handle): number {
    return this.arena.get(h, H_TIME);
  }

  isTombstone(h: Handle): boolean {
    return (this.arena.get(h, H_META) & META_TOMBSTONE) !== 0;
  }

  isFetched(h: Handle): boolean {
    return (this.arena.get(h, H_META) & META_FETCHED) !== 0;
  }

  isLinked(h: Handle): boolean {
    return (this.arena.get(h, H_META) & META_LINKED) !== 0;
  }

  /** Slab class id (memcached numbers classes from 1; this is 0-based). */
  slabClass(h: Handle): number {
    return this.arena.classOf(h);
  }

  /** Header + key + value bytes (memcached ITEM_ntotal, metadump "size"). */
  itemSize(h: Handle): number {
    return HEADER_BYTES + this.keyLength(h) + this.valueLength(h);
  }

  keyBuffer(h: Handle): Buffer {
    return this.arena.bufs[h >>> CHUNK_BITS];
  }

  keyStart(h: Handle): number {
    const p = h >>> CHUNK_BITS;
    return ((h & CHUNK_MASK) * this.arena.chunkWords[p] + HEADER_WORDS) * 4;
  }

  keyLength(h: Handle): number {
    return this.arena.get(h, H_META) & META_KEYLEN_MASK;
  }

  /** Whether the item's key equals key[ks, ke). */
  keyMatches(h: Handle, key: Uint8Array, ks: number, ke: number): boolean {
    if (this.keyLength(h) !== ke - ks) return false;
    const buf = this.keyBuffer(h);
    let o = this.keyStart(h);
    for (let i = ks; i < ke; i++) if (buf[o++] !== key[i]) return false;
    return true;
  }

  valueBuffer(h: Handle): Buffer {
    return this.arena.bufs[h >>> CHUNK_BITS];
  }

  valueStart(h: Handle): number {
    return this.keyStart(h) + this.keyLength(h);
  }

  valueLength(h: Handle): number {
    return this.arena.get(h, H_VLEN);
  }

  /** Alias of isFetched: whether any client read the item before (meta `h`). */
  wasFetched(h: Handle): boolean {
    return this.isFetched(h);
  }

  /** Stale: invalidated by `md ... I` or an older-CAS `ms ... I`; still served, flagged X. */
  isStale(h: Handle): boolean {
    return (this.arena.get(h, H_META) & META_STALE) !== 0;
  }

  setStale(h: Handle, on: boolean): void {
    this.setMetaBit(h, META_STALE, on);
  }

  /** Whether a win token (W) was already handed out for this item; later readers see Z. */
  tokenSent(h: Handle): boolean {
    return (this.arena.get(h, H_META) & META_TOKEN_SENT) !== 0;
  }

  setTokenSent(h: Handle, on: boolean): void {
    this.setMetaBit(h, META_TOKEN_SENT, on);
  }

  /** The CAS value in decimal (metadump, logs); allocates, so not for the hot path. */
  casString(h: Handle): string {
    const hi = this.verHi(h);
    const lo = this.verLo(h);
    return hi === 0 ? String(lo) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
  }

  private setMetaBit(h: Handle, bit: number, on: boolean): void {
    const m = this.arena.get(h, H_META);
    this.arena.set(h, H_META, on ? m | bit : m & ~bit);
  }
}
