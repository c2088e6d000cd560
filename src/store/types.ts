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
}
