/**
 * The slab arena: memcached's slabs.c model. Memory comes in pages (1 MiB by default, memcached
 * -o slab_page_size); each page belongs to one slab class and is cut into equal chunks. Class
 * chunk sizes grow by the growth factor (-f, 1.25) from the smallest item (-n, 48 bytes of data
 * plus the header) up to half a page; the last class is one chunk per page. Pages are allocated
 * lazily until the memory limit, and can be moved to another class (slab_reassign).
 */
import assert from "node:assert";
import {
  CHUNK_BITS,
  CHUNK_MASK,
  H_NEXT,
  HEADER_BYTES,
  MAX_CHUNKS_PER_PAGE,
  MAX_PAGES,
} from "./layout.js";
import { type Handle, NO_ITEM } from "./types.js";

const MIN_PAGE_SIZE = 1024 * 1024;
/** memcached settings.chunk_size default (-n 48): the smallest key + value space. */
const MIN_DATA_BYTES = 48;

export class SlabArena {
  readonly pageSize: number;
  readonly maxPages: number;
  readonly nClasses: number;
  readonly classSize: Int32Array;
  readonly classPerPage: Int32Array;
  /** Per page: its buffer, an Int32Array view of it, its class, chunk size in words. */
  readonly bufs: Buffer[] = [];
  readonly words: Int32Array[] = [];
  readonly pageClass: Int16Array;
  readonly chunkWords: Int32Array;
  /** Per class: page count, free list (linked through H_NEXT), the page being carved. */
  readonly classPages: Int32Array;
  readonly freeHead: Int32Array;
  readonly freeCount: Int32Array;
  readonly endPage: Int32Array;
  readonly endNext: Int32Array;

  constructor(memoryLimitBytes: number, maxItemBytes: number, growthFactor: number) {
    assert.ok(growthFactor > 1, "growth factor must exceed 1");
    let pageSize = Math.max(MIN_PAGE_SIZE, ceil8(maxItemBytes));
    // Handles have 16 bits of page index: very large limits get larger pages instead.
    pageSize = Math.max(pageSize, ceil8(Math.ceil(memoryLimitBytes / MAX_PAGES)));
    this.pageSize = pageSize;
    this.maxPages = Math.max(1, Math.floor(memoryLimitBytes / pageSize));
    const sizes: number[] = [];
    let size = ceil8(HEADER_BYTES + MIN_DATA_BYTES);
    // slabs.c slabs_init: grow by the factor, aligned to 8, while below half a page.
    while (size <= pageSize / 2) {
      sizes.push(size);
      size = Math.max(size + 8, ceil8(Math.floor(size * growthFactor)));
    }
    sizes.push(pageSize);
    this.nClasses = sizes.length;
    this.classSize = Int32Array.from(sizes);
    this.classPerPage = Int32Array.from(sizes, (s) =>
      Math.min(Math.floor(pageSize / s), MAX_CHUNKS_PER_PAGE),
    );
    this.pageClass = new Int16Array(this.maxPages).fill(-1);
    this.chunkWords = new Int32Array(this.maxPages);
    const n = this.nClasses;
    this.classPages = new Int32Array(n);
    this.freeHead = new Int32Array(n).fill(NO_ITEM);
    this.freeCount = new Int32Array(n);
    this.endPage = new Int32Array(n).fill(-1);
    this.endNext = new Int32Array(n);
  }

  get totalPages(): number {
    return this.bufs.length;
  }

  /** The class whose chunks hold `totalBytes`, or -1 if no chunk is large enough. */
  classFor(totalBytes: number): number {
    const cs = this.classSize;
    if (totalBytes > cs[cs.length - 1]) return -1;
    let lo = 0;
    let hi = cs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cs[mid] >= totalBytes) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Word index of a handle's chunk within words[page]. */
  base(h: Handle): number {
    return (h & CHUNK_MASK) * this.chunkWords[h >>> CHUNK_BITS];
  }

  get(h: Handle, field: number): number {
    const p = h >>> CHUNK_BITS;
    return this.words[p][(h & CHUNK_MASK) * this.chunkWords[p] + field];
  }

  set(h: Handle, field: number, v: number): void {
    const p = h >>> CHUNK_BITS;
    this.words[p][(h & CHUNK_MASK) * this.chunkWords[p] + field] = v;
  }

  /** Byte offset of a handle's chunk in bufs[page]. */
  byteOffset(h: Handle): number {
    return (h & CHUNK_MASK) * this.chunkWords[h >>> CHUNK_BITS] * 4;
  }

  buffer(h: Handle): Buffer {
    return this.bufs[h >>> CHUNK_BITS];
  }

  classOf(h: Handle): number {
    return this.pageClass[h >>> CHUNK_BITS];
  }

  /** Chunks not yet carved from the class's newest page (memcached free_chunks_end). */
  uncarved(cls: number): number {
    const p = this.endPage[cls];
    return p < 0 ? 0 : this.classPerPage[cls] - this.endNext[cls];
  }

  /** A free chunk of the class without evicting anything, or NO_ITEM. */
  alloc(cls: number): Handle {
    const f = this.freeHead[cls];
    if (f !== NO_ITEM) {
      this.freeHead[cls] = this.get(f, H_NEXT);
      this.freeCount[cls]--;
      return f;
    }
    if (this.endPage[cls] < 0) {
      if (this.bufs.length >= this.maxPages) return NO_ITEM;
      this.attachPage(this.newPage(), cls);
    }
    const p = this.endPage[cls];
    const c = this.endNext[cls]++;
    if (this.endNext[cls] === this.classPerPage[cls]) this.endPage[cls] = -1;
    return (p << CHUNK_BITS) | c;
  }

  /** Returns a chunk to its class's free list (memcached do_slabs_free). */
  free(h: Handle): void {
    const cls = this.classOf(h);
    this.set(h, H_NEXT, this.freeHead[cls]);
    this.freeHead[cls] = h;
    this.freeCount[cls]++;
  }

  canGrow(): boolean {
    return this.bufs.length < this.maxPages;
  }

  /** Handles of the page's chunks that were ever carved (the caller checks which are linked). */
  carvedChunks(page: number): number {
    const cls = this.pageClass[page];
    return this.endPage[cls] === page ? this.endNext[cls] : this.classPerPage[cls];
  }

  /**
   * Takes a page away from its class (slabs.c slab_rebalance_move): the caller has already
   * unlinked and freed every item in it, so only the free list and carving state refer to it.
   */
  detachPage(page: number): void {
    const cls = this.pageClass[page];
    assert.ok(cls >= 0, "detaching an unowned page");
    let prev = NO_ITEM;
    let h = this.freeHead[cls];
    while (h !== NO_ITEM) {
      const next = this.get(h, H_NEXT);
      if (h >>> CHUNK_BITS === page) {
        if (prev === NO_ITEM) this.freeHead[cls] = next;
        else this.set(prev, H_NEXT, next);
        this.freeCount[cls]--;
      } else {
        prev = h;
      }
      h = next;
    }
    if (this.endPage[cls] === page) this.endPage[cls] = -1;
    this.classPages[cls]--;
    this.pageClass[page] = -1;
  }

  /** Gives a page to a class and starts carving it. */
  attachPage(page: number, cls: number): void {
    assert.ok(this.endPage[cls] < 0, "class is still carving a page");
    this.pageClass[page] = cls;
    this.chunkWords[page] = this.classSize[cls] >>> 2;
    this.classPages[cls]++;
    this.endPage[cls] = page;
    this.endNext[cls] = 0;
  }

  private newPage(): number {
    // allocUnsafeSlow: a page of its own outside Node's shared pool; the items header it.
    const buf = Buffer.allocUnsafeSlow(this.pageSize);
    this.bufs.push(buf);
    this.words.push(new Int32Array(buf.buffer, buf.byteOffset, this.pageSize >>> 2));
    return this.bufs.length - 1;
  }
}

function ceil8(n: number): number {
  return (n + 7) & ~7;
}
