/**
 * Paul Hsieh's SuperFastHash as in twemproxy src/hashkit/nc_hsieh.c. 16-bit reads are
 * little-endian; in the 3-byte tail the third byte goes through a signed `char`
 * (`(uint32_t)key[2] << 18`), which we reproduce. Empty keys hash to 0.
 */
import { signedByte } from "./types.js";

export function hashHsieh(key: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len <= 0) return 0;
  let h = 0;
  let p = start;
  for (let n = len >>> 2; n > 0; n--) {
    h = (h + (key[p] | (key[p + 1] << 8))) | 0;
    const tmp = ((key[p + 2] | (key[p + 3] << 8)) << 11) ^ h;
    h = (h << 16) ^ tmp;
    p += 4;
    h = (h + (h >>> 11)) | 0;
  }
  switch (len & 3) {
    case 3:
      h = (h + (key[p] | (key[p + 1] << 8))) | 0;
      h ^= h << 16;
      h ^= signedByte(key[p + 2]) << 18;
      h = (h + (h >>> 11)) | 0;
      break;
    case 2:
      h = (h + (key[p] | (key[p + 1] << 8))) | 0;
      h ^= h << 11;
      h = (h + (h >>> 17)) | 0;
      break;
    case 1:
      h = (h + key[p]) | 0;
      h ^= h << 10;
      h = (h + (h >>> 1)) | 0;
      break;
  }
  h ^= h << 3;
  h = (h + (h >>> 5)) | 0;
  h ^= h << 4;
  h = (h + (h >>> 17)) | 0;
  h ^= h << 25;
  h = (h + (h >>> 6)) | 0;
  return h >>> 0;
}
