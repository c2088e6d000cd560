/**
 * The item header, in 32-bit words at the start of each chunk (memcached's struct _stritem in
 * memcached.h, reshaped for typed-array access). Chunks are 8-byte aligned, so the header is
 * read through an Int32Array view of the page. Key bytes follow the header, then value bytes.
 */
export const H_HNEXT = 0; // next handle in the hash chain (memcached h_next)
export const H_PREV = 1; // LRU towards the head (newer)
export const H_NEXT = 2; // LRU towards the tail (older); also the free-list link of a free chunk
export const H_HASH = 3; // full 32-bit key hash: cheap compare, and rehash without reading keys
export const H_VLEN = 4; // value length in bytes
export const H_FLAGS = 5; // client flags, uint32 stored as int32
export const H_EXPTIME = 6; // absolute seconds, 0 = never, negative = already expired
export const H_VERHI = 7; // version / CAS, high half
export const H_VERLO = 8; // version / CAS, low half
export const H_TIME = 9; // last access (or store) time in seconds, memcached it->time
export const H_SEQ = 10; // store sequence when stamped: orders items within one second (flush_all)
export const H_META = 11; // key length (bits 0-7) and flag bits below
export const HEADER_WORDS = 12;
export const HEADER_BYTES = HEADER_WORDS * 4;

export const META_KEYLEN_MASK = 0xff;
export const META_FETCHED = 1 << 8; // memcached ITEM_FETCHED
export const META_TOMBSTONE = 1 << 9;
export const META_LINKED = 1 << 10; // memcached ITEM_LINKED: in the index and an LRU
// Meta protocol stale/win state (protocol.txt "Meta Get": X and W/Z return flags).
export const META_STALE = 1 << 11; // memcached ITEM_STALE: invalidated by md I / ms I
export const META_TOKEN_SENT = 1 << 12; // memcached ITEM_TOKEN_SENT: a W (win) was handed out

/** memcached KEY_MAX_LENGTH (protocol.txt "Keys"). */
export const KEY_MAX_LENGTH = 250;

/** Handle = page index << CHUNK_BITS | chunk index within the page. */
export const CHUNK_BITS = 15;
export const CHUNK_MASK = (1 << CHUNK_BITS) - 1;
export const MAX_CHUNKS_PER_PAGE = CHUNK_MASK + 1;
/** Page indexes take the other 16 bits, so a handle is a non-negative int32. */
export const MAX_PAGES = 1 << 16;
