/** twemproxy src/hashkit/nc_crc32.c hash_crc32a: standard CRC-32 (what zlib's crc32 returns). */
import { crc32Register } from "./crc32_table.js";

export function hashCrc32a(key: Buffer, start: number, end: number): number {
  return ~crc32Register(key, start, end) >>> 0;
}
