/**
 * Meta commands mg/ms/md/ma/mn/me (protocol.txt "Meta Commands"), with the checks and error
 * texts of memcached 1.6.18 proto_text.c: process_m*_command and _meta_flag_preparse.
 */
import { bytesEqual, num, parseI32Wrap, parseU32Wrap, parseU64 } from "./numbers.js";
import { Cmd, MetaFlag, type TextRequest } from "./text-request.js";
import { BAD_FORMAT, ERR, KEY_MAX_LENGTH, Next, TOO_LARGE, type Tokens } from "./tokens.js";

/** How a flag's token is read (index: the flag letter's char code). */
const K_PLAIN = 1;
const K_I32 = 2; // N T R: safe_strtol
const K_U64 = 3; // C E J D: safe_strtoull
const K_FLAGS = 4; // F
const K_MODE = 5; // M: exactly one mode character
const K_OPAQUE = 6; // O (P, L: reserved for the proxy, value ignored)
const K_B64 = 7;
const KIND = new Uint8Array(128);
const BIT = new Uint32Array(128);
for (const [ch, bit] of Object.entries(MetaFlag)) BIT[ch.charCodeAt(0)] = bit;
for (const ch of "cfhklqstuvxIPL") KIND[ch.charCodeAt(0)] = K_PLAIN;
for (const ch of "NTR") KIND[ch.charCodeAt(0)] = K_I32;
for (const ch of "CEJD") KIND[ch.charCodeAt(0)] = K_U64;
KIND[0x46] = K_FLAGS;
KIND[0x4d] = K_MODE;
KIND[0x4f] = K_OPAQUE;
KIND[0x62] = K_B64;
const NEWER = MetaFlag.E | MetaFlag.x;

/** MFLAG_MAX_OPT_LENGTH: at most 20 tokens counting memcached's terminal empty token. */
const MAX_TOKENS = 19;
/** MFLAG_MAX_OPAQUE_LENGTH. */
const MAX_OPAQUE = 32;
const BAD_TOKEN = "CLIENT_ERROR bad token in command line format";
const MD_MA_FLAG_ERROR = "CLIENT_ERROR invalid or duplicate flag";

const B64 = new Uint8Array(256);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
  B64[ch.charCodeAt(0)] = 1;

/** A key in base64 must decode to at least one byte (memcached's base64_decode returns 0). */
function validBase64(b: Buffer, s: number, e: number): boolean {
  const len = e - s;
  if (len === 0 || len % 4 !== 0) return false;
  let pad = 0;
  if (b[e - 1] === 0x3d) pad = b[e - 2] === 0x3d ? 2 : 1;
  for (let i = s; i < e - pad; i++) if (B64[b[i]] === 0) return false;
  return len - pad > 1;
}

/**
 * _meta_flag_preparse: fills req from tokens [first, t.n). Returns "" or memcached's errstr. A
 * repeated or unknown letter stops at once; a bad token value is remembered and the scan goes on
 * (so the last such message wins, as in memcached).
 */
function preparse(b: Buffer, t: Tokens, first: number, req: TextRequest, newer: boolean): string {
  let err = "";
  let seen = 0;
  req.tokCount = 0;
  for (let i = first; i < t.n; i++) {
    const s = t.s[i];
    const e = t.e[i];
    const o = b[s];
    const bit = o < 128 ? BIT[o] : 0;
    if (o >= 127 || (bit !== 0 && (seen & bit) !== 0)) return "CLIENT_ERROR duplicate flag";
    const kind = o < 128 ? KIND[o] : 0;
    if (kind === 0 || (!newer && (bit & NEWER) !== 0)) return "CLIENT_ERROR invalid flag";
    seen |= bit;
    req.tokStarts[req.tokCount] = s;
    req.tokEnds[req.tokCount++] = e;
    switch (kind) {
      case K_I32:
        if (!parseI32Wrap(b, s + 1, e)) err = BAD_TOKEN;
        else if (o === 0x54) req.exptime = num.i32;
        else if (o === 0x4e) req.vivifyTtl = num.i32;
        else req.recacheTtl = num.i32;
        break;
      case K_U64:
        if (!parseU64(b, s + 1, e)) {
          err =
            o === 0x4a
              ? "CLIENT_ERROR invalid numeric initial value"
              : o === 0x44
                ? "CLIENT_ERROR invalid numeric delta value"
                : BAD_TOKEN;
        } else if (o === 0x43) {
          req.hasCas = true;
          req.casHi = num.hi;
          req.casLo = num.lo;
        } else if (o === 0x45) {
          req.newCasHi = num.hi;
          req.newCasLo = num.lo;
        } else if (o === 0x4a) {
          req.initialHi = num.hi;
          req.initialLo = num.lo;
        } else {
          req.deltaHi = num.hi;
          req.deltaLo = num.lo;
        }
        break;
      case K_FLAGS:
        // has_error without a message: the caller's default text applies.
        if (!parseU32Wrap(b, s + 1, e)) err ||= BAD_FORMAT;
        else req.flags = num.lo;
        break;
      case K_MODE:
        if (e - s !== 2) err = "CLIENT_ERROR incorrect length for M token";
        else req.mode = b[s + 1];
        break;
      case K_OPAQUE:
        if (o === 0x4f) {
          req.opaqueStart = s + 1;
          req.opaqueEnd = e;
        }
        break;
      case K_B64:
        if (!validBase64(b, req.keyStart, req.keyEnd)) err = "CLIENT_ERROR error decoding key";
        break;
    }
  }
  req.mflags = seen;
  return err;
}

function setKey(t: Tokens, req: TextRequest): void {
  req.keyCount = 1;
  req.keyStart = req.keyStarts[0] = t.s[1];
  req.keyEnd = req.keyEnds[0] = t.e[1];
}

/** Parses a meta command line whose name token is t[0]; `cmd` already identified. */
export function parseMeta(
  b: Buffer,
  t: Tokens,
  req: TextRequest,
  cmd: Cmd,
  maxValueBytes: number,
  newer: boolean,
): Next {
  if (cmd === Cmd.Mn) return Next.Done;
  if (cmd === Cmd.Me) {
    if (t.n !== 2 || t.len(1) > KEY_MAX_LENGTH) return fail(req, BAD_FORMAT);
    setKey(t, req);
    return Next.Done;
  }
  if (t.n < 2) return fail(req, ERR);
  if (cmd === Cmd.Ms && t.n === 2) return fail(req, BAD_FORMAT);
  if (t.len(1) > KEY_MAX_LENGTH) return fail(req, BAD_FORMAT);
  setKey(t, req);
  if (t.n > MAX_TOKENS) return fail(req, "CLIENT_ERROR options flags are too long");
  let first = 2;
  if (cmd === Cmd.Ms) {
    // ms <key> <datalen> <flags>*: a bad datalen cannot be swallowed, so the data line that
    // follows is read as a command (1.6.18 replies ERROR to it).
    if (!parseI32Wrap(b, t.s[2], t.e[2]) || num.i32 < 0 || num.i32 > 0x7ffffffd)
      return fail(req, BAD_FORMAT);
    req.bytes = num.i32;
    first = 3;
  }
  let err = preparse(b, t, first, req, newer);
  if (err !== "" && (cmd === Cmd.Md || cmd === Cmd.Ma)) err = MD_MA_FLAG_ERROR;
  if (err === "" && req.opaqueEnd - req.opaqueStart > MAX_OPAQUE)
    err = "CLIENT_ERROR opaque token too long";
  if (err === "" && req.mode !== 0) {
    if (cmd === Cmd.Ms && "EeAaPpRrSs".indexOf(String.fromCharCode(req.mode)) < 0)
      err = "CLIENT_ERROR invalid mode for ms M token";
    else if (cmd === Cmd.Ma && "IiDd+-".indexOf(String.fromCharCode(req.mode)) < 0)
      err = "CLIENT_ERROR invalid mode for ma M token";
  }
  req.noreply = (req.mflags & MetaFlag.q) !== 0;
  if (cmd !== Cmd.Ms) return err === "" ? Next.Done : fail(req, err);
  // ms errors after the datalen is known skip the data block so the stream stays in sync.
  if (err === "" && req.bytes > maxValueBytes) err = TOO_LARGE;
  if (err !== "") {
    req.error = err;
    return Next.Swallow;
  }
  return Next.Data;
}

function fail(req: TextRequest, text: string): Next {
  req.error = text;
  return Next.Fail;
}

/** True when token i of t is exactly "noreply" (set_noreply_maybe looks at the last token). */
export function isNoreply(b: Buffer, t: Tokens, i: number): boolean {
  return bytesEqual(b, t.s[i], t.e[i], "noreply");
}
