/** The reflected CRC-32 table (IEEE 802.3 polynomial 0xEDB88320), shared by crc32/crc32a. */
export const CRC32_TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  CRC32_TABLE[i] = c >>> 0;
}

/** The raw register after feeding key[start..end) from an all-ones start (no final xor). */
export function crc32Register(key: Buffer, start: number, end: number): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC32_TABLE[(crc ^ key[i]) & 0xff];
  return crc >>> 0;
}
