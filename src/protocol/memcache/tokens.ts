/**
 * A command line split on single spaces, as memcached's tokenize_command (proto_text.c) does:
 * runs of spaces separate tokens, tabs are not separators. memcached handles the line as a C
 * string (process_command_ascii, strlen), so the line ends at its first NUL byte: `get \0` is
 * `get ` (ERROR) and `get a\0b` is `get a` (memcached 1.6.18 answers so). Arrays are reused
 * across requests.
 */
export class Tokens {
  readonly s: number[] = [];
  readonly e: number[] = [];
  n = 0;

  /** Splits b[from, to) and returns where the line ends: `to`, or its first NUL byte. */
  split(b: Buffer, from: number, to: number): number {
    let n = 0;
    let i = from;
    while (i < to) {
      while (i < to && b[i] === 0x20) i++;
      if (i >= to || b[i] === 0) break;
      const st = i;
      while (i < to && b[i] !== 0x20 && b[i] !== 0) i++;
      this.s[n] = st;
      this.e[n] = i;
      n++;
    }
    this.n = n;
    return i;
  }

  len(i: number): number {
    return this.e[i] - this.s[i];
  }
}

/** What a command handler asks the parser to do next. */
export const Next = {
  /** Request complete (the line was all of it). */
  Done: 0,
  /** Error reply in req.error; the line is consumed. */
  Fail: 1,
  /** A data block of req.bytes + 2 bytes follows the line. */
  Data: 2,
  /** Error reply in req.error, and req.bytes + 2 bytes that follow must be skipped unread. */
  Swallow: 3,
} as const;
export type Next = (typeof Next)[keyof typeof Next];

/** Keys are at most 250 bytes (protocol.txt "Keys"; KEY_MAX_LENGTH in memcached.h). */
export const KEY_MAX_LENGTH = 250;

export const ERR = "ERROR";
export const BAD_FORMAT = "CLIENT_ERROR bad command line format";
export const BAD_CHUNK = "CLIENT_ERROR bad data chunk";
export const TOO_LARGE = "SERVER_ERROR object too large for cache";
export const LINE_TOO_LONG = "CLIENT_ERROR line too long";
