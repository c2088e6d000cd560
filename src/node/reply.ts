/**
 * Writers for the text protocol's reply lines, shared by the classic and meta executors.
 * Everything goes straight into the connection's OutBuffer; values are copied once, from the
 * slab page.
 */
import { formatU64 } from "../store/u64.js";
import type { OutBuffer } from "../util/out-buffer.js";

const digits = new Uint8Array(20);

/** Writes a uint64 (two halves) in decimal: CAS values and incr/decr results. */
export function writeU64(out: OutBuffer, hi: number, lo: number): void {
  const n = formatU64(hi >>> 0, lo >>> 0, digits);
  out.ensure(n);
  for (let i = 0; i < n; i++) out.buf[out.pos + i] = digits[i];
  out.pos += n;
}

/** Writes a signed 32-bit or safe integer in decimal. */
export function writeInt(out: OutBuffer, n: number): void {
  if (n < 0) {
    out.u8(0x2d);
    out.decimal(-n);
  } else out.decimal(n);
}

/** Writes `s` then CRLF. */
export function line(out: OutBuffer, s: string): void {
  out.ensure(s.length + 2);
  out.ascii(s);
  out.crlf();
}
