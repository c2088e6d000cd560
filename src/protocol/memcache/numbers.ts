/**
 * Number parsing straight from bytes, matching memcached's util.c helpers (safe_strtoull,
 * safe_strtoul, safe_strtol), which wrap libc strto* on a 64-bit build: an optional sign, decimal
 * digits, and the token must end at a space or the line end (our tokens always do). Results land
 * in the exported scratch object so the hot path allocates nothing.
 */

/** Result of the last successful parse. 64-bit values are split into two uint32 halves. */
export const num = { hi: 0, lo: 0, i32: 0 };

const TWO32 = 4294967296;

/**
 * Unsigned 64-bit decimal (safe_strtoull). Fails on empty input, a non-digit, or a value
 * >= 2^64 (ERANGE). A '-' sign is accepted only for zero: strtoull would negate, and memcached
 * rejects any result whose top bit is set when a '-' is present.
 */
export function parseU64(b: Buffer, s: number, e: number): boolean {
  let neg = false;
  if (s < e && (b[s] === 0x2b || b[s] === 0x2d)) {
    neg = b[s] === 0x2d;
    s++;
  }
  if (s >= e) return false;
  let hi = 0;
  let lo = 0;
  for (let i = s; i < e; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return false;
    const lo10 = lo * 10 + d; // < 2^36: exact in a double
    const carry = Math.floor(lo10 / TWO32);
    lo = lo10 - carry * TWO32;
    hi = hi * 10 + carry;
    if (hi >= TWO32) return false;
  }
  if (neg && (hi !== 0 || lo !== 0)) return false;
  num.hi = hi;
  num.lo = lo;
  return true;
}

/**
 * safe_strtoul into a uint32_t (flags): strtoul is 64-bit, and memcached stores the result into
 * a 32-bit field, so values >= 2^32 silently wrap (memcached 1.6.18 stores `set a 4294967297`
 * with flags 1). Result in num.lo.
 */
export function parseU32Wrap(b: Buffer, s: number, e: number): boolean {
  if (!parseU64(b, s, e)) return false;
  num.hi = 0;
  return true;
}

/**
 * safe_strtol into an int32_t (exptime, ttl, datalen): strtol is 64-bit signed (ERANGE outside
 * [-2^63, 2^63-1]) and the result is truncated to 32 bits, as memcached 1.6.18 does. Result in
 * num.i32.
 */
export function parseI32Wrap(b: Buffer, s: number, e: number): boolean {
  let neg = false;
  if (s < e && (b[s] === 0x2b || b[s] === 0x2d)) {
    neg = b[s] === 0x2d;
    s++;
  }
  if (s >= e) return false;
  let hi = 0;
  let lo = 0;
  for (let i = s; i < e; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return false;
    const lo10 = lo * 10 + d;
    const carry = Math.floor(lo10 / TWO32);
    lo = lo10 - carry * TWO32;
    hi = hi * 10 + carry;
    if (hi > 0x80000000) return false;
  }
  if (hi === 0x80000000 && (lo !== 0 || !neg)) return false;
  num.i32 = neg ? -lo | 0 : lo | 0;
  return true;
}

/** Small non-negative decimal that must fit in 31 bits (used for reply data lengths). */
export function parseSize(b: Buffer, s: number, e: number): number {
  if (s >= e || e - s > 10) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v > 0x7fffffff ? -1 : v;
}

/** True when bytes [s, e) equal the ASCII string `lit`. */
export function bytesEqual(b: Buffer, s: number, e: number, lit: string): boolean {
  if (e - s !== lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (b[s + i] !== lit.charCodeAt(i)) return false;
  return true;
}
