/**
 * twemproxy src/hashkit/nc_md5.c hash_md5: the MD5 digest's first four bytes read
 * little-endian. ketama uses the same digest with an alignment (bytes 4a..4a+3).
 */
import { createHash } from "node:crypto";

export function md5Digest(data: Buffer | string): Buffer {
  return createHash("md5").update(data).digest();
}

export function hashMd5(key: Buffer, start: number, end: number): number {
  return md5Digest(key.subarray(start, end)).readUInt32LE(0);
}
