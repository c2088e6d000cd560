/**
 * The reusable result object of TextRequestParser. All positions are byte offsets into
 * `parser.buffer`; nothing here is a string or a bigint, so parsing a request allocates nothing.
 */

/** Text-protocol commands (protocol.txt "Commands"). */
export const Cmd = {
  Unknown: 0,
  Get: 1,
  Gets: 2,
  Gat: 3,
  Gats: 4,
  Touch: 5,
  Set: 6,
  Add: 7,
  Replace: 8,
  Append: 9,
  Prepend: 10,
  Cas: 11,
  Delete: 12,
  Incr: 13,
  Decr: 14,
  FlushAll: 15,
  Version: 16,
  Verbosity: 17,
  Stats: 18,
  Quit: 19,
  Shutdown: 20,
  LruCrawler: 21,
  Mg: 22,
  Ms: 23,
  Md: 24,
  Ma: 25,
  Mn: 26,
  Me: 27,
} as const;
export type Cmd = (typeof Cmd)[keyof typeof Cmd];

/**
 * Meta flag presence bits (protocol.txt "Meta Commands"): one bit per flag letter, set in
 * `TextRequest.mflags`. E and x are newer than 1.6.18 and only accepted with `newerMetaFlags`.
 */
export const MetaFlag = {
  b: 1 << 0, // key is base64
  c: 1 << 1, // return cas
  f: 1 << 2, // return client flags
  h: 1 << 3, // return whether hit before
  k: 1 << 4, // return key
  l: 1 << 5, // return time since last access
  q: 1 << 6, // quiet: suppress EN/HD/NF
  s: 1 << 7, // return size
  t: 1 << 8, // return ttl
  u: 1 << 9, // don't bump LRU
  v: 1 << 10, // return value
  x: 1 << 11, // md: remove value, keep item (newer)
  C: 1 << 12, // compare cas
  D: 1 << 13, // ma delta
  E: 1 << 14, // explicit new cas (newer)
  F: 1 << 15, // client flags
  I: 1 << 16, // invalidate / mark stale
  J: 1 << 17, // ma initial value
  L: 1 << 18, // proxy-reserved, ignored
  M: 1 << 19, // mode switch
  N: 1 << 20, // vivify on miss, with ttl
  O: 1 << 21, // opaque
  P: 1 << 22, // proxy-reserved, ignored
  R: 1 << 23, // recache if ttl below
  T: 1 << 24, // ttl
} as const;

export class TextRequest {
  cmd: Cmd = Cmd.Unknown;
  /** Whole request: command line, CRLF and data block (a proxy forwards [frameStart, frameEnd)). */
  frameStart = 0;
  frameEnd = 0;
  /** End of the command line, before "\r\n" or "\n". */
  lineEnd = 0;
  /** The command name token. */
  cmdStart = 0;
  cmdEnd = 0;
  /** Keys: every key of a multi-get, the one key otherwise (keyCount 1). */
  keyCount = 0;
  readonly keyStarts: number[] = [];
  readonly keyEnds: number[] = [];
  /** First key (same as keyStarts[0]). */
  keyStart = 0;
  keyEnd = 0;
  /** Client flags (storage commands; meta F). uint32. */
  flags = 0;
  /** exptime (storage, touch, gat) or meta T; int32, may be negative. */
  exptime = 0;
  /** Data length (without the trailing CRLF). */
  bytes = 0;
  /** cas unique (cas command, meta C), as uint32 halves. */
  hasCas = false;
  casHi = 0;
  casLo = 0;
  /** incr/decr or meta D delta, uint64 as halves. */
  deltaHi = 0;
  deltaLo = 1;
  noreply = false;
  dataStart = 0;
  dataEnd = 0;
  /** verbosity level. */
  level = 0;
  /** flush_all delay. */
  hasDelay = false;
  delay = 0;
  /** Arguments after the command name (stats, lru_crawler, shutdown, version), up to lineEnd. */
  argStart = 0;
  argEnd = 0;
  // --- meta ---
  /** Presence bits from MetaFlag. */
  mflags = 0;
  /** Flag tokens in request order (mg must echo return flags in this order). */
  tokCount = 0;
  readonly tokStarts: number[] = [];
  readonly tokEnds: number[] = [];
  /** N vivify ttl and R recache threshold (int32). */
  vivifyTtl = 0;
  recacheTtl = 0;
  /** M mode character code, 0 when absent. */
  mode = 0;
  /** E explicit cas (uint64 halves). */
  newCasHi = 0;
  newCasLo = 0;
  /** J initial value for ma (uint64 halves; default 0). */
  initialHi = 0;
  initialLo = 0;
  /** O opaque token value (without the 'O'). */
  opaqueStart = 0;
  opaqueEnd = 0;
  // --- errors ---
  /**
   * With status Error: the exact reply memcached 1.6.18 sends, without "\r\n"; "" when it sends
   * nothing (noreply suppresses most errors of classic commands).
   */
  error = "";
  /** The connection must be closed after sending `error`. */
  close = false;

  /** Resets per-request fields (called by the parser before each request). */
  reset(): void {
    this.cmd = Cmd.Unknown;
    this.keyCount = 0;
    this.flags = 0;
    this.exptime = 0;
    this.bytes = 0;
    this.hasCas = false;
    this.casHi = this.casLo = 0;
    this.deltaHi = 0;
    this.deltaLo = 1;
    this.noreply = false;
    this.dataStart = this.dataEnd = 0;
    this.level = 0;
    this.hasDelay = false;
    this.delay = 0;
    this.argStart = this.argEnd = 0;
    this.mflags = 0;
    this.tokCount = 0;
    this.vivifyTtl = this.recacheTtl = 0;
    this.mode = 0;
    this.newCasHi = this.newCasLo = 0;
    this.initialHi = this.initialLo = 0;
    this.opaqueStart = this.opaqueEnd = 0;
    this.error = "";
    this.close = false;
  }

  /** Moves every offset left by `d` (the parser compacted its buffer while a frame was open). */
  shift(d: number): void {
    if (d === 0) return;
    this.frameStart -= d;
    this.frameEnd -= d;
    this.lineEnd -= d;
    this.cmdStart -= d;
    this.cmdEnd -= d;
    this.keyStart -= d;
    this.keyEnd -= d;
    for (let i = 0; i < this.keyCount; i++) {
      this.keyStarts[i] -= d;
      this.keyEnds[i] -= d;
    }
    for (let i = 0; i < this.tokCount; i++) {
      this.tokStarts[i] -= d;
      this.tokEnds[i] -= d;
    }
    this.dataStart -= d;
    this.dataEnd -= d;
    this.argStart -= d;
    this.argEnd -= d;
    this.opaqueStart -= d;
    this.opaqueEnd -= d;
  }

  /** Convenience for tests and logs (allocates): key i as a latin1 string. */
  key(buf: Buffer, i = 0): string {
    return buf.toString("latin1", this.keyStarts[i], this.keyEnds[i]);
  }
}
