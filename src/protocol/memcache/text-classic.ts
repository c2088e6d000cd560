/**
 * Classic ASCII commands (protocol.txt "Commands"), checked the way memcached 1.6.18
 * proto_text.c process_command_ascii and its process_*_command helpers do: the token counts of
 * WANT_TOKENS*, the error texts, and which errors `noreply` silences (out_string is silenced by
 * noreply, out_errstring is not).
 */
import { num, parseI32Wrap, parseU32Wrap, parseU64 } from "./numbers.js";
import { isNoreply } from "./text-meta.js";
import { Cmd, type TextRequest } from "./text-request.js";
import { BAD_FORMAT, ERR, KEY_MAX_LENGTH, Next, TOO_LARGE, type Tokens } from "./tokens.js";

const BAD_EXPTIME = "CLIENT_ERROR invalid exptime argument";
const BAD_DELTA = "CLIENT_ERROR invalid numeric delta argument";

function fail(req: TextRequest, text: string): Next {
  // out_string() writes nothing for a noreply request.
  req.error = req.noreply ? "" : text;
  return Next.Fail;
}

function keyFrom(t: Tokens, req: TextRequest, i: number): boolean {
  if (t.e[i] - t.s[i] > KEY_MAX_LENGTH) return false;
  req.keyCount = 1;
  req.keyStart = req.keyStarts[0] = t.s[i];
  req.keyEnd = req.keyEnds[0] = t.e[i];
  return true;
}

/** get/gets/gat/gats: every remaining token is a key (memcached takes any number of them). */
export function parseRetrieval(b: Buffer, t: Tokens, req: TextRequest, cmd: Cmd): Next {
  if (t.n < 2) return fail(req, ERR);
  let first = 1;
  if (cmd === Cmd.Gat || cmd === Cmd.Gats) {
    if (!parseI32Wrap(b, t.s[1], t.e[1])) return fail(req, BAD_EXPTIME);
    req.exptime = num.i32;
    first = 2;
  }
  let k = 0;
  for (let i = first; i < t.n; i++) {
    if (t.e[i] - t.s[i] > KEY_MAX_LENGTH) return fail(req, BAD_FORMAT);
    req.keyStarts[k] = t.s[i];
    req.keyEnds[k++] = t.e[i];
  }
  req.keyCount = k;
  req.keyStart = k > 0 ? req.keyStarts[0] : 0;
  req.keyEnd = k > 0 ? req.keyEnds[0] : 0;
  return Next.Done;
}

/** set/add/replace/append/prepend <key> <flags> <exptime> <bytes> [noreply]; cas adds <cas>. */
export function parseStorage(
  b: Buffer,
  t: Tokens,
  req: TextRequest,
  cmd: Cmd,
  maxValueBytes: number,
): Next {
  const isCas = cmd === Cmd.Cas;
  const base = isCas ? 6 : 5;
  if (t.n !== base && t.n !== base + 1) return fail(req, ERR);
  req.noreply = t.n === base + 1 && isNoreply(b, t, base);
  if (!keyFrom(t, req, 1)) return fail(req, BAD_FORMAT);
  if (!parseU32Wrap(b, t.s[2], t.e[2])) return fail(req, BAD_FORMAT);
  req.flags = num.lo;
  if (!parseI32Wrap(b, t.s[3], t.e[3])) return fail(req, BAD_FORMAT);
  req.exptime = num.i32;
  if (!parseI32Wrap(b, t.s[4], t.e[4])) return fail(req, BAD_FORMAT);
  const vlen = num.i32;
  if (isCas) {
    if (!parseU64(b, t.s[5], t.e[5])) return fail(req, BAD_FORMAT);
    req.hasCas = true;
    req.casHi = num.hi;
    req.casLo = num.lo;
  }
  // vlen + 2 must fit an int (memcached: vlen < 0 || vlen > INT_MAX - 2).
  if (vlen < 0 || vlen > 0x7ffffffd) return fail(req, BAD_FORMAT);
  req.bytes = vlen;
  if (vlen > maxValueBytes) {
    // item_alloc failed: reply, then swallow the data block (conn_swallow). memcached also
    // unlinks the old item for a set, so the node must delete the key.
    req.error = req.noreply ? "" : TOO_LARGE;
    return Next.Swallow;
  }
  return Next.Data;
}

/** delete <key> [0] [noreply]: the legacy hold time is accepted only as "0". */
export function parseDelete(b: Buffer, t: Tokens, req: TextRequest): Next {
  if (t.n < 2 || t.n > 4) return fail(req, ERR);
  if (t.n > 2) {
    const zero = t.e[2] - t.s[2] === 1 && b[t.s[2]] === 0x30;
    req.noreply = isNoreply(b, t, t.n - 1);
    const ok = (t.n === 3 && (zero || req.noreply)) || (t.n === 4 && zero && req.noreply);
    if (!ok)
      return fail(req, "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");
  }
  if (!keyFrom(t, req, 1)) return fail(req, BAD_FORMAT);
  return Next.Done;
}

/** incr|decr <key> <delta> [noreply]: delta is a 64-bit unsigned decimal. */
export function parseArith(b: Buffer, t: Tokens, req: TextRequest): Next {
  if (t.n !== 3 && t.n !== 4) return fail(req, ERR);
  req.noreply = t.n === 4 && isNoreply(b, t, 3);
  if (!keyFrom(t, req, 1)) return fail(req, BAD_FORMAT);
  if (!parseU64(b, t.s[2], t.e[2])) return fail(req, BAD_DELTA);
  req.deltaHi = num.hi;
  req.deltaLo = num.lo;
  return Next.Done;
}

/** touch <key> <exptime> [noreply]. */
export function parseTouch(b: Buffer, t: Tokens, req: TextRequest): Next {
  if (t.n !== 3 && t.n !== 4) return fail(req, ERR);
  req.noreply = t.n === 4 && isNoreply(b, t, 3);
  if (!keyFrom(t, req, 1)) return fail(req, BAD_FORMAT);
  if (!parseI32Wrap(b, t.s[2], t.e[2])) return fail(req, BAD_EXPTIME);
  req.exptime = num.i32;
  return Next.Done;
}

/** flush_all [delay] [noreply]: a second number is ignored, as memcached does. */
export function parseFlushAll(b: Buffer, t: Tokens, req: TextRequest): Next {
  if (t.n > 3) return fail(req, ERR);
  req.noreply = t.n > 1 && isNoreply(b, t, t.n - 1);
  if (t.n !== (req.noreply ? 2 : 1)) {
    if (!parseI32Wrap(b, t.s[1], t.e[1])) return fail(req, BAD_EXPTIME);
    req.hasDelay = true;
    req.delay = num.i32;
  }
  return Next.Done;
}

/** verbosity <level> [noreply]. */
export function parseVerbosity(b: Buffer, t: Tokens, req: TextRequest): Next {
  if (t.n !== 2 && t.n !== 3) return fail(req, ERR);
  req.noreply = isNoreply(b, t, t.n - 1);
  if (!parseU32Wrap(b, t.s[1], t.e[1])) return fail(req, BAD_FORMAT);
  req.level = num.lo;
  return Next.Done;
}

/** Commands whose arguments the parser leaves to the caller (stats, lru_crawler, ...). */
export function parseArgs(t: Tokens, req: TextRequest, lineEnd: number): Next {
  req.argStart = t.n > 1 ? t.s[1] : lineEnd;
  req.argEnd = lineEnd;
  return Next.Done;
}
