/**
 * Splitting an inline command line the way redis-server does (networking.c
 * processInlineBuffer → sds.c sdssplitargs): whitespace separates arguments; "double quotes"
 * take \xHH and \n \r \t \b \a escapes; 'single quotes' take \' only; a closing quote must be
 * followed by whitespace or the end; the line ends at a NUL byte (sdssplitargs reads a C string).
 * Lines without quotes give byte ranges into the input; lines with quotes are decoded into a
 * fresh buffer (rare: only people typing into telnet do this).
 */
import type { ArgView } from "./command-types.js";

/** isspace() in the C locale. */
function isSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

/** Ends an unquoted token in sdssplitargs: ' ', '\n', '\r', '\t' (not \v or \f). */
function endsToken(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function hexVal(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

const ESCAPES: Record<number, number> = { 110: 0x0a, 114: 0x0d, 116: 0x09, 98: 0x08, 97: 0x07 };

/**
 * Fills out.argc/argStart/argEnd (and out.buf) with the arguments of src[start, end).
 * Returns false on unbalanced quotes ("-ERR Protocol error: unbalanced quotes in request").
 */
export function splitInline(src: Buffer, start: number, end: number, out: ArgView): boolean {
  const nul = src.indexOf(0, start);
  if (nul >= 0 && nul < end) end = nul;
  out.argc = 0;
  let q = src.indexOf(0x22, start);
  if (q < 0 || q >= end) q = src.indexOf(0x27, start);
  if (q < 0 || q >= end) {
    out.buf = src;
    let p = start;
    for (;;) {
      while (p < end && isSpace(src[p])) p++;
      if (p >= end) return true;
      const s = p;
      while (p < end && !endsToken(src[p])) p++;
      out.argStart[out.argc] = s;
      out.argEnd[out.argc] = p;
      out.argc++;
    }
  }
  return splitQuoted(src, start, end, out);
}

function splitQuoted(src: Buffer, start: number, end: number, out: ArgView): boolean {
  const dst = Buffer.allocUnsafe(end - start);
  let w = 0;
  let p = start;
  out.buf = dst;
  for (;;) {
    while (p < end && isSpace(src[p])) p++;
    if (p >= end) return true;
    const s = w;
    let inq = false;
    let insq = false;
    for (let done = false; !done; ) {
      if (inq) {
        if (p >= end) return false;
        const b = src[p];
        if (
          b === 0x5c &&
          p + 3 < end &&
          src[p + 1] === 0x78 &&
          hexVal(src[p + 2]) >= 0 &&
          hexVal(src[p + 3]) >= 0
        ) {
          dst[w++] = hexVal(src[p + 2]) * 16 + hexVal(src[p + 3]);
          p += 3;
        } else if (b === 0x5c && p + 1 < end) {
          p++;
          dst[w++] = ESCAPES[src[p]] ?? src[p];
        } else if (b === 0x22) {
          if (p + 1 < end && !isSpace(src[p + 1])) return false;
          done = true;
        } else dst[w++] = b;
      } else if (insq) {
        if (p >= end) return false;
        const b = src[p];
        if (b === 0x5c && p + 1 < end && src[p + 1] === 0x27) {
          p++;
          dst[w++] = 0x27;
        } else if (b === 0x27) {
          if (p + 1 < end && !isSpace(src[p + 1])) return false;
          done = true;
        } else dst[w++] = b;
      } else {
        if (p >= end) break;
        const b = src[p];
        if (endsToken(b)) done = true;
        else if (b === 0x22) inq = true;
        else if (b === 0x27) insq = true;
        else dst[w++] = b;
      }
      if (p < end) p++;
    }
    out.argStart[out.argc] = s;
    out.argEnd[out.argc] = w;
    out.argc++;
  }
}
