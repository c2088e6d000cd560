/**
 * twemproxy src/hashkit/nc_fnv.c hash_fnv1a_64 (the default hash): despite the name, it runs
 * in a uint32 from the start, `(uint32_t)FNV_64_INIT` and `(uint32_t)FNV_64_PRIME`, i.e. basis
 * 0x84222325 and prime 0x1b3; the byte is a sign-extended `char`.
 */
import { signedByte } from "./types.js";

export function hashFnv1a_64(key: Buffer, start: number, end: number): number {
  let h = 0x84222325 | 0;
  for (let i = start; i < end; i++) {
    h ^= signedByte(key[i]);
    h = Math.imul(h, 0x1b3);
  }
  return h >>> 0;
}
