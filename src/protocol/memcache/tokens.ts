/**
 * A command line split on single spaces, as memcached's tokenize_command (proto_text.c) does:
 * runs of spaces separate tokens, tabs are not separators. memcached handles the line as a C
 * string (process_command_ascii, strlen), so the line ends at its first NUL byte: `get \0` is
 * `get ` (ERROR) and `get a\0b` is `get a` (memcached 1.6.18 answers so). Arrays are reused
 * across requests.
 *
 * A long line (a get of thousands of keys, up to 1 MiB) is split as its bytes arrive instead
 * (more()): each read's bytes are tokenized once, so the read that brings the "\n" does not
 * split the whole line in one pass.
 */
export class Tokens {
  readonly s: number[] = [];
  readonly e: number[] = [];
  n = 0;
  /** Where a split begun by more() resumes; -1 when none is under way. */
  private at = -1;
  /** Start of the token cut by the end of the bytes seen so far; -1 when none. */
  private open = -1;
  /** The first NUL byte of the line so far (where it ends); -1 when none. */
  private nul = -1;

  /** A split begun by more() waits for the rest of its line. */
  get partial(): boolean {
    return this.at >= 0;
  }

  /**
   * Splits the line that starts at `from` as far as its bytes have arrived (`to`), after the
   * tokens of earlier calls; a token that reaches `to` stays open. `final`: `to` is the end of
   * the line (the "\r" the parser strips may already have been scanned: it is dropped), and
   * the return value is where the line ends, as split()'s; -1 otherwise.
   */
  more(b: Buffer, from: number, to: number, final: boolean): number {
    let n = 0;
    let i = from;
    let open = -1;
    let nul = -1;
    if (this.at >= 0) {
      n = this.n;
      i = this.at;
      open = this.open;
      nul = this.nul;
      if (i > to) {
        i = to;
        if (open >= to) open = -1;
      }
    }
    while (nul < 0) {
      if (open < 0) {
        while (i < to && b[i] === 0x20) i++;
        if (i >= to) break;
        if (b[i] === 0) {
          nul = i;
          break;
        }
        open = i;
      }
      while (i < to && b[i] !== 0x20 && b[i] !== 0) i++;
      if (i >= to && !final) break;
      this.s[n] = open;
      this.e[n] = i;
      n++;
      open = -1;
      if (i < to && b[i] === 0) nul = i;
    }
    this.n = n;
    if (final) {
      this.reset();
      return nul >= 0 ? nul : to;
    }
    this.at = i;
    this.open = open;
    this.nul = nul;
    return -1;
  }

  /** The line's bytes moved `d` to the left (ByteQueue.feed) while a split is under way. */
  shift(d: number): void {
    this.at -= d;
    if (this.open >= 0) this.open -= d;
    if (this.nul >= 0) this.nul -= d;
    for (let k = 0; k < this.n; k++) {
      this.s[k] -= d;
      this.e[k] -= d;
    }
  }

  /** Drops a split under way (its line was refused). */
  reset(): void {
    this.at = -1;
    this.open = -1;
    this.nul = -1;
  }

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
