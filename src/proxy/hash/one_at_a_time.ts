/**
 * Bob Jenkins' one-at-a-time hash as in twemproxy src/hashkit/nc_one_at_a_time.c. The byte is
 * read through a signed `char` and widened to uint32 (sign-extended), so non-ASCII keys hash
 * differently from the textbook version; we do the same.
 */
import { signedByte } from "./types.js";

export function hashOneAtATime(key: Buffer, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    v = (v + signedByte(key[i])) | 0;
    v = (v + (v << 10)) | 0;
    v ^= v >>> 6;
  }
  v = (v + (v << 3)) | 0;
  v ^= v >>> 11;
  v = (v + (v << 15)) | 0;
  return v >>> 0;
}
