/**
 * Integers read straight from bytes with redis' string2ll rules (redis src/util.c): optional
 * '-', no '+', no spaces, no leading zeros ("0" alone is fine, "-0" is not), at most 20
 * characters, within the signed 64-bit range. Used for RESP lengths and numeric arguments so
 * the hot path never builds a string. Values past 2^53 lose precision, which is harmless for
 * lengths (every limit is far below) but is why callers should not do exact arithmetic on them.
 */

const TWO_63 = 2 ** 63;

/** buf[start, end) as an integer, or NaN if string2ll would reject it. */
export function parseLL(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len <= 0 || len > 20) return Number.NaN;
  let i = start;
  if (len === 1 && buf[i] === 0x30) return 0;
  const neg = buf[i] === 0x2d;
  if (neg) i++;
  // First digit must be 1-9: no leading zeros, no "-0", no bare "-".
  if (i === end || buf[i] < 0x31 || buf[i] > 0x39) return Number.NaN;
  let v = 0;
  for (; i < end; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  // Doubles cannot tell 2^63-1 from 2^63; the edge itself is rejected, which no length reaches.
  if (v > TWO_63 || (v === TWO_63 && !neg)) return Number.NaN;
  return neg ? -v : v;
}
