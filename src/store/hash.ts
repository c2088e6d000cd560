/**
 * MurmurHash3 x86_32 (Austin Appleby, public domain reference MurmurHash3.cpp) over a byte
 * range. memcached uses murmur3 as its default hash (hash.c, "-o hash_algorithm=murmur3");
 * Math.imul keeps every step in 32-bit integers, so no allocation and no floating point.
 */
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

export function murmur3(buf: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed | 0;
  const n = end - start;
  const blockEnd = start + (n & ~3);
  let i = start;
  let k = 0;
  for (; i < blockEnd; i += 4) {
    k = buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail !== 0) {
    k = 0;
    if (tail === 3) k ^= buf[i + 2] << 16;
    if (tail >= 2) k ^= buf[i + 1] << 8;
    k ^= buf[i];
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
