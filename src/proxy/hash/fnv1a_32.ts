/** twemproxy src/hashkit/nc_fnv.c hash_fnv1a_32: FNV-1a, 32-bit; the byte is a signed `char`. */
import { signedByte } from "./types.js";

export function hashFnv1a_32(key: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) {
    h ^= signedByte(key[i]);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
