/**
 * Unsigned 64-bit decimal arithmetic for incr/decr (protocol.txt "Increment/Decrement": the
 * value is a 64-bit unsigned integer in decimal; incr wraps on overflow, decr stops at 0),
 * done on two uint32 halves so the hot path never touches BigInt.
 */
const TWO32 = 4294967296;

/** Reused result holder. */
export interface U64 {
  hi: number;
  lo: number;
}

/** C isspace() in the "C" locale: space, \t, \n, \v, \f, \r. */
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * An item's value as memcached reads it for incr/decr: util.c safe_strtoull over the value,
 * which in memcached's item is followed by "\r\n". So, as strtoull: leading whitespace is
 * skipped, then an optional sign and at least one digit; the digits must end at whitespace, a
 * NUL or the value's end ("12 34" is 12, and a decr result padded with spaces reads back);
 * above 2^64-1 is ERANGE. A '-' negates modulo 2^64 (strtoull), and safe_strtoull refuses the
 * result when its top bit is set ("-1" fails, "-0" is 0). False means non-numeric.
 */
export function parseU64(buf: Uint8Array, start: number, end: number, out: U64): boolean {
  let i = start;
  while (i < end && isSpace(buf[i])) i++;
  let neg = false;
  if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    neg = buf[i] === 0x2d;
    i++;
  }
  const digits = i;
  let hi = 0;
  let lo = 0;
  for (; i < end; i++) {
    const c = buf[i];
    if (c < 0x30 || c > 0x39) break;
    const x = lo * 10 + (c - 0x30); // < 2^36: exact in a double
    const carry = Math.floor(x / TWO32);
    lo = x - carry * TWO32;
    hi = hi * 10 + carry;
    if (hi >= TWO32) return false;
  }
  if (i === digits) return false;
  if (i < end && buf[i] !== 0 && !isSpace(buf[i])) return false;
  if (neg && (hi !== 0 || lo !== 0)) {
    // 2^64 - value, whose top bit must be clear.
    subFloorU64(TWO32 - 1, TWO32 - 1, hi, lo, out);
    addU64(out.hi, out.lo, 0, 1, out);
    if (out.hi >= 0x80000000) return false;
    return true;
  }
  out.hi = hi;
  out.lo = lo;
  return true;
}

/** Writes the decimal digits of hi:lo into scratch[0..) and returns their count (1..20). */
export function formatU64(hi: number, lo: number, scratch: Uint8Array): number {
  let n = 0;
  do {
    const qh = Math.floor(hi / 10);
    const x = (hi - qh * 10) * TWO32 + lo; // < 10 * 2^32
    const ql = Math.floor(x / 10);
    scratch[n++] = 0x30 + (x - ql * 10);
    hi = qh;
    lo = ql;
  } while (hi !== 0 || lo !== 0);
  for (let a = 0, b = n - 1; a < b; a++, b--) {
    const t = scratch[a];
    scratch[a] = scratch[b];
    scratch[b] = t;
  }
  return n;
}

/** out = (a + b) mod 2^64. */
export function addU64(aHi: number, aLo: number, bHi: number, bLo: number, out: U64): void {
  const lo = aLo + bLo;
  const carry = lo >= TWO32 ? 1 : 0;
  out.lo = lo - carry * TWO32;
  out.hi = (aHi + bHi + carry) % TWO32;
}

/** out = max(a - b, 0). */
export function subFloorU64(aHi: number, aLo: number, bHi: number, bLo: number, out: U64): void {
  if (aHi < bHi || (aHi === bHi && aLo < bLo)) {
    out.hi = 0;
    out.lo = 0;
    return;
  }
  let lo = aLo - bLo;
  let hi = aHi - bHi;
  if (lo < 0) {
    lo += TWO32;
    hi -= 1;
  }
  out.hi = hi;
  out.lo = lo;
}
