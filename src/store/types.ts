/**
 * The contract between the cache store (src/store/) and its users (src/node/, replication).
 *
 * Items live in large preallocated slab pages; the index is typed arrays. No JS object is
 * created per item, so millions of items do not stall the garbage collector. An item is named
 * by a numeric handle, valid only until the next mutating call on the store.
 *
 * Every stored item carries a 64-bit version, which is also its memcached CAS value. The node
 * supplies versions (a hybrid logical clock plus node id, see src/node/), so that replicated
 * copies of an item have the same CAS on every node. Versions are passed as two uint32 halves
 * to stay off BigInt in the hot path.
 */
export type Handle = number;
export const NO_ITEM: Handle = -1;

export interface StoreOptions {
  /** Total bytes the slab pages may use (memcached -m). */
  memoryLimitBytes: number;
  /** Largest item value accepted (memcached -I). */
  maxItemSize: number;
  /** Slab class growth factor (memcached -f), default 1.25. */
  growthFactor?: number;
  /**
   * An item fetched again is moved to the head of its LRU at most once per this many seconds
   * (memcached ITEM_UPDATE_INTERVAL, 60), which keeps reads from writing the list every time.
   */
  lruBumpIntervalSeconds?: number;
  /** Seed of the key hash; random by default so clients cannot aim keys at one bucket. */
  hashSeed?: number;
  /** log2 of the initial bucket count (memcached -o hashpower, default 16). */
  hashPower?: number;
}

/** The memcached storage commands (protocol.txt "Storage commands"). */
export enum StoreMode {
  Set = 0,
  Add = 1,
  Replace = 2,
  Append = 3,
  Prepend = 4,
  Cas = 5,
}

/** Outcome of a store-mode write, mirroring memcached's replies. */
export enum StoreResult {
  Stored = 0,
  NotStored = 1,
  Exists = 2,
  NotFound = 3,
  TooLarge = 4,
  /** No memory could be freed for the item (every page pinned); memcached says "out of memory". */
  NoMemory = 5,
}

/** Outcome of incr/decr (protocol.txt "Increment/Decrement"). */
export enum IncrResult {
  Ok = 0,
  NotFound = 1,
  /** "CLIENT_ERROR cannot increment or decrement non-numeric value" */
  NonNumeric = 2,
  NoMemory = 3,
}

/** Reused out-object of Store.incrDecr: the new 64-bit value and the item holding its digits. */
export interface IncrOut {
  hi: number;
  lo: number;
  handle: Handle;
}

/** What a replicated delete leaves behind so that an older write cannot resurrect the key. */
export interface TombstoneSpec {
  verHi: number;
  verLo: number;
  /** Seconds the tombstone lives. */
  ttl: number;
}

export interface StoreStats {
  currItems: number;
  totalItems: number;
  bytes: number; // bytes of live items (key + value + header)
  evictions: number;
  expiredUnfetched: number;
  evictedUnfetched: number;
  reclaimed: number;
  limitMaxbytes: number;
  totalPages: number;
  tombstones: number;
  /** Lazily expired / flushed items met by a get (memcached get_expired, get_flushed). */
  getExpired: number;
  getFlushed: number;
  /** Pages moved between slab classes (memcached slabs_moved). */
  slabsMoved: number;
  /** Fetches that found no memory for an item (memcached outofmemory). */
  outOfMemory: number;
  pageSize: number;
  /** Bytes held by the pages (memcached total_malloced). */
  totalMalloced: number;
  /** Bytes of the hash index's typed arrays, on top of the pages. */
  hashBytes: number;
  hashPowerLevel: number;
  hashIsExpanding: boolean;
}

/** One slab class, for `stats slabs` and `stats items`. */
export interface SlabClassStats {
  id: number;
  chunkSize: number;
  chunksPerPage: number;
  totalPages: number;
  totalChunks: number;
  usedChunks: number;
  freeChunks: number;
  freeChunksEnd: number;
  items: number;
  tombstones: number;
  /** Seconds since the LRU tail was last accessed. */
  age: number;
  evicted: number;
  evictedUnfetched: number;
  evictedTime: number;
  reclaimed: number;
  expiredUnfetched: number;
  outOfMemory: number;
}
