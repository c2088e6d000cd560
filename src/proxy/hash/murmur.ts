/**
 * MurmurHash2 as in twemproxy src/hashkit/nc_murmur.c, with libmemcached's seed
 * `0xdeadbeef * length`. 4-byte blocks are read little-endian (the x86 unaligned read).
 */
const M = 0x5bd1e995;

export function hashMurmur(key: Buffer, start: number, end: number): number {
  let len = end - start;
  let h = Math.imul(0xdeadbeef | 0, len) ^ len;
  let p = start;
  while (len >= 4) {
    let k = key[p] | (key[p + 1] << 8) | (key[p + 2] << 16) | (key[p + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
    p += 4;
    len -= 4;
  }
  // The C switch falls through from 3 to 1.
  if (len === 3) h ^= key[p + 2] << 16;
  if (len >= 2) h ^= key[p + 1] << 8;
  if (len >= 1) {
    h ^= key[p];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h >>> 0;
}
