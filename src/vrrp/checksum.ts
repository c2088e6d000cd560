/**
 * The Internet checksum (RFC 1071): 16-bit one's complement of the one's complement sum.
 * VRRP v2 covers the VRRP message only (RFC 3768 §5.3.8); v3 prepends the IPv4 pseudo-header
 * (RFC 5798 §5.2.8, which points at RFC 8200 §8.1 for IPv6).
 */

/** Adds `buf` to a running 32-bit accumulator; an odd final byte is padded with zero. */
export function sumWords(buf: Uint8Array, acc = 0): number {
  const end = buf.length & ~1;
  for (let i = 0; i < end; i += 2) acc += (buf[i] << 8) | buf[i + 1];
  if (buf.length & 1) acc += buf[buf.length - 1] << 8;
  // Fold often enough that the accumulator never leaves the safe-integer range.
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}

/** Finishes an accumulator into the value that goes on the wire. */
export function finish(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

export function internetChecksum(...parts: Uint8Array[]): number {
  let acc = 0;
  for (const p of parts) {
    // Parts are concatenated on even boundaries only (pseudo-headers are 12 or 40 bytes).
    acc = sumWords(p, acc);
  }
  return finish(acc);
}
