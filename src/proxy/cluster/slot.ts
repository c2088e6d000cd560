/**
 * Redis Cluster key → hash slot (cluster-spec.md "Keys distribution model" and "Hash tags"):
 *   HASH_SLOT = CRC16(key) mod 16384
 * with CRC16-CCITT/XMODEM (poly 0x1021, init 0, no reflection; check value 0x31C3 for
 * "123456789"). When the key has a '{' followed later by a '}' with at least one byte between
 * them, only the bytes between the FIRST '{' and the first '}' after it are hashed
 * (cluster.c keyHashSlot). Keys are bytes: no string decoding.
 */
export const SLOTS = 16384;

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0;
  for (let i = start; i < end; i++)
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ buf[i]) & 0xff];
  return crc;
}

/** The hash slot of the key buf[start, end). */
export function keySlot(buf: Uint8Array, start = 0, end = buf.length): number {
  let open = -1;
  for (let i = start; i < end; i++)
    if (buf[i] === 0x7b) {
      open = i;
      break;
    }
  if (open >= 0) {
    for (let i = open + 1; i < end; i++)
      if (buf[i] === 0x7d) {
        // "{}" (empty tag): the whole key is hashed.
        if (i > open + 1) return crc16(buf, open + 1, i) & (SLOTS - 1);
        break;
      }
  }
  return crc16(buf, start, end) & (SLOTS - 1);
}
