/**
 * twemproxy 0.5.0 src/hashkit/nc_crc16.c: the CRC-16/XMODEM table (polynomial 0x1021, MSB
 * first, init 0), but the register is a uint32 and is never masked to 16 bits:
 * `crc = (crc << 8) ^ tab[((crc >> 8) ^ key[i]) & 0xff]`. Bits above 16 therefore accumulate,
 * and for keys longer than two bytes the result is a 32-bit value, not a CRC. (Later twemproxy
 * master switched to a 16-bit kernel CRC, which maps keys differently; 0.5.0 is what users run,
 * and the e2e parity test against the real nutcracker pins this behaviour.) The table is
 * generated from the polynomial.
 */
const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  TABLE[i] = c;
}

export function hashCrc16(key: Buffer, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = (crc << 8) ^ TABLE[((crc >>> 8) ^ key[i]) & 0xff];
  return crc >>> 0;
}
