/**
 * twemproxy src/hashkit/nc_fnv.c hash_fnv1_64: 64-bit FNV-1 returning the low 32 bits. The
 * low 32 bits of a 64-bit product depend only on the low 32 bits of its factors, and the FNV
 * 64 prime 0x100000001b3 has low word 0x1b3, so the whole computation fits in 32-bit Math.imul
 * with the offset basis' low word 0x84222325. The byte is a sign-extended `char`.
 */
import { signedByte } from "./types.js";

export function hashFnv1_64(key: Buffer, start: number, end: number): number {
  let h = 0x84222325 | 0;
  for (let i = start; i < end; i++) {
    h = Math.imul(h, 0x1b3);
    h ^= signedByte(key[i]);
  }
  return h >>> 0;
}
