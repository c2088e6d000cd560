/**
 * Writers for the replies and requests the proxy produces itself (RESP2, with RESP3 null).
 * `write*` functions write at `off` into a caller's Buffer (which must have room: see the
 * `*Len` helpers) and return the offset after what they wrote; the others return new Buffers.
 * Integers are written digit by digit, not through a string.
 */
import type { ArgView } from "./command-types.js";

const CRLF_LEN = 2;

/** Decimal digits of n (with its '-' sign). n must be a safe integer. */
export function intLen(n: number): number {
  let len = n < 0 ? 2 : 1;
  for (let v = Math.abs(n); v >= 10; v = Math.floor(v / 10)) len++;
  return len;
}

function writeDigits(dst: Buffer, off: number, n: number): number {
  if (n < 0) {
    dst[off++] = 0x2d;
    n = -n;
  }
  const len = intLen(n);
  for (let i = off + len - 1; i >= off; i--) {
    dst[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return off + len;
}

/** Writes "<prefix><n>\r\n" (prefix is the type byte: ':' '*' '$' ...). */
export function writeHeader(dst: Buffer, off: number, prefix: number, n: number): number {
  dst[off++] = prefix;
  off = writeDigits(dst, off, n);
  dst[off++] = 0x0d;
  dst[off++] = 0x0a;
  return off;
}

/** Bytes writeHeader needs. */
export function headerLen(n: number): number {
  return 1 + intLen(n) + CRLF_LEN;
}

export const writeInteger = (dst: Buffer, off: number, n: number): number =>
  writeHeader(dst, off, 0x3a, n);
export const writeArrayHeader = (dst: Buffer, off: number, n: number): number =>
  writeHeader(dst, off, 0x2a, n);
export const writeBulkHeader = (dst: Buffer, off: number, n: number): number =>
  writeHeader(dst, off, 0x24, n);

/** Writes "$<len>\r\n<src[start,end)>\r\n". */
export function writeBulk(
  dst: Buffer,
  off: number,
  src: Buffer,
  start: number,
  end: number,
): number {
  off = writeBulkHeader(dst, off, end - start);
  off += src.copy(dst, off, start, end);
  dst[off++] = 0x0d;
  dst[off++] = 0x0a;
  return off;
}

export function bulkLen(n: number): number {
  return headerLen(n) + n + CRLF_LEN;
}

/** "+OK\r\n"-style status. The text must not contain CR or LF. */
export function simpleString(text: string): Buffer {
  return Buffer.from(`+${oneLine(text)}\r\n`, "latin1");
}

/** "-ERR ...\r\n". Like redis addReplyError, adds "ERR " unless the text starts with a code ("-X"). */
export function errorReply(text: string): Buffer {
  const t = oneLine(text);
  return Buffer.from(t.startsWith("-") ? `${t}\r\n` : `-ERR ${t}\r\n`, "latin1");
}

/** "-CODE message\r\n" with an explicit error code (MOVED, READONLY, ...). */
export function codedError(code: string, message: string): Buffer {
  return Buffer.from(`-${oneLine(code)} ${oneLine(message)}\r\n`, "latin1");
}

export function integer(n: number): Buffer {
  const b = Buffer.allocUnsafe(headerLen(n));
  writeInteger(b, 0, n);
  return b;
}

export function arrayHeader(n: number): Buffer {
  const b = Buffer.allocUnsafe(headerLen(n));
  writeArrayHeader(b, 0, n);
  return b;
}

export function bulk(value: Buffer | string): Buffer {
  const v = typeof value === "string" ? Buffer.from(value) : value;
  const b = Buffer.allocUnsafe(bulkLen(v.length));
  writeBulk(b, 0, v, 0, v.length);
  return b;
}

const NULL_BULK = Buffer.from("$-1\r\n");
const NULL_RESP3 = Buffer.from("_\r\n");
const NULL_ARRAY = Buffer.from("*-1\r\n");

/** The null reply: "$-1\r\n" for RESP2, "_\r\n" for RESP3 (after HELLO 3). Shared: do not modify. */
export function nullReply(resp3 = false): Buffer {
  return resp3 ? NULL_RESP3 : NULL_BULK;
}

/** RESP2 null array "*-1\r\n" (RESP3 uses "_\r\n" for it too). Shared: do not modify. */
export function nullArray(resp3 = false): Buffer {
  return resp3 ? NULL_RESP3 : NULL_ARRAY;
}

/**
 * A request as a multibulk of the given arguments of `req` (all of them when `indexes` is
 * omitted): for inline requests, and for sub-requests built from a request's byte ranges.
 */
export function encodeRequest(req: ArgView, indexes?: readonly number[]): Buffer {
  const n = indexes ? indexes.length : req.argc;
  let size = headerLen(n);
  for (let k = 0; k < n; k++) {
    const i = indexes ? indexes[k] : k;
    size += bulkLen(req.argEnd[i] - req.argStart[i]);
  }
  const out = Buffer.allocUnsafe(size);
  let off = writeArrayHeader(out, 0, n);
  for (let k = 0; k < n; k++) {
    const i = indexes ? indexes[k] : k;
    off = writeBulk(out, off, req.buf, req.argStart[i], req.argEnd[i]);
  }
  return out;
}

/** Arguments as one ArgView: their bytes end to end, with each one's offsets. */
export function argView(args: readonly (string | Buffer)[]): ArgView {
  const bufs = args.map((a) => (typeof a === "string" ? Buffer.from(a) : a));
  const argStart: number[] = [];
  const argEnd: number[] = [];
  let off = 0;
  for (const b of bufs) {
    argStart.push(off);
    off += b.length;
    argEnd.push(off);
  }
  return { buf: Buffer.concat(bufs), argc: bufs.length, argStart, argEnd };
}

/** A request made of string arguments (the proxy's own handshake and probe, tests). */
export function encodeCommand(...args: string[]): Buffer {
  return encodeRequest(argView(args));
}

/** Error and status texts are one line on the wire (redis maps CR/LF to spaces). */
function oneLine(s: string): string {
  return s.replace(/[\r\n]/g, " ");
}
