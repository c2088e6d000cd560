/**
 * twemproxy src/hashkit/nc_crc32.c hash_crc32: libmemcached's variant, which returns only bits
 * 16..30 of the CRC-32 (`((~crc) >> 16) & 0x7fff`), so its values are 0..32767. crc32a is the
 * full, spec-conformant CRC-32.
 */
import { crc32Register } from "./crc32_table.js";

export function hashCrc32(key: Buffer, start: number, end: number): number {
  return (~crc32Register(key, start, end) >>> 16) & 0x7fff;
}
