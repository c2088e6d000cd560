/**
 * Resumable framer for a memcached server's text replies, for the proxy: it finds where each
 * reply (and each VALUE item of a multi-get) begins and ends, so items from several shards can
 * be re-assembled and forwarded as byte ranges. Values are never decoded. Reply shapes:
 * protocol.txt "Retrieval command", "Storage commands", "Statistics", "Meta Commands".
 */
import { ByteQueue, ParseStatus } from "./input.js";
import { parseSize } from "./numbers.js";

export {
  BinaryResponse,
  type BinaryResponseOptions,
  BinaryResponseParser,
} from "./binary-response.js";
export { ParseStatus } from "./input.js";

export const ReplyKind = {
  /** "VALUE <key> <flags> <bytes> [<cas>]" plus data block: one item of a get; more follow. */
  Value: 1,
  /** "STAT <name> <value>": more follow until END. */
  Stat: 2,
  /** "END". */
  End: 3,
  /** Meta "VA <size> <flags>*" plus data block. */
  MetaValue: 4,
  /** ERROR, CLIENT_ERROR ..., SERVER_ERROR ... */
  Error: 5,
  /** Any other single line: STORED, NOT_FOUND, a number, VERSION x, OK, HD, EN, MN, ME ... */
  Line: 6,
} as const;
export type ReplyKind = (typeof ReplyKind)[keyof typeof ReplyKind];

/** How to read replies to the request in flight. */
export const ReplyMode = {
  /** VALUE and STAT lines continue the reply; any other line ends it. */
  Auto: 0,
  /** Every line continues the reply until END or an error line (lru_crawler metadump, stats). */
  Lines: 1,
} as const;
export type ReplyMode = (typeof ReplyMode)[keyof typeof ReplyMode];

export class TextResponse {
  kind: ReplyKind = ReplyKind.Line;
  /** True when this piece ends the reply to the request in flight. */
  terminal = false;
  frameStart = 0;
  frameEnd = 0;
  /** End of the first line, before its "\r\n" / "\n". */
  lineEnd = 0;
  /** VALUE: the key token. */
  keyStart = 0;
  keyEnd = 0;
  /** VALUE / VA: the data block (without its "\r\n") and its length. */
  dataStart = 0;
  dataEnd = 0;
  bytes = 0;
  /** With status Error: what is wrong (the backend stream cannot be trusted any more). */
  error = "";
}

export interface TextResponseOptions {
  maxLineLength?: number;
  maxValueBytes?: number;
}

function startsWith(b: Buffer, s: number, e: number, lit: string): boolean {
  if (e - s < lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (b[s + i] !== lit.charCodeAt(i)) return false;
  return true;
}

/** Index of the next space in [s, e), or e. */
function spaceAt(b: Buffer, s: number, e: number): number {
  while (s < e && b[s] !== 0x20) s++;
  return s;
}

export class TextResponseParser {
  private readonly q = new ByteQueue();
  private readonly maxLine: number;
  private readonly maxValue: number;
  private scan = 0;
  /** A VALUE/VA line parsed, its data block not yet complete. */
  private pending: TextResponse | null = null;
  private broken = false;

  constructor(opts: TextResponseOptions = {}) {
    this.maxLine = opts.maxLineLength ?? 8192;
    this.maxValue = opts.maxValueBytes ?? 1 << 30;
  }

  get buffer(): Buffer {
    return this.q.buf;
  }

  get buffered(): number {
    return this.q.length;
  }

  feed(chunk: Buffer): void {
    if (this.broken) return;
    const moved = this.q.feed(chunk);
    if (moved !== 0) {
      this.scan -= moved;
      const p = this.pending;
      if (p !== null) {
        p.frameStart -= moved;
        p.frameEnd -= moved;
        p.lineEnd -= moved;
        p.keyStart -= moved;
        p.keyEnd -= moved;
        p.dataStart -= moved;
        p.dataEnd -= moved;
      }
    }
  }

  /** Frames the next reply piece into `res` (pass the same `res` again after NeedMore). */
  next(res: TextResponse, mode: ReplyMode = ReplyMode.Auto): ParseStatus {
    if (this.broken) return ParseStatus.NeedMore;
    const q = this.q;
    if (this.pending !== null) return this.finishData(res);
    const b = q.buf;
    const s = q.start;
    if (this.scan < s) this.scan = s;
    let nl = this.scan < q.end ? b.indexOf(10, this.scan) : -1;
    if (nl >= q.end) nl = -1;
    if ((nl < 0 ? q.end : nl) - s > this.maxLine) return this.fail(res, "reply line too long");
    if (nl < 0) {
      this.scan = q.end;
      return ParseStatus.NeedMore;
    }
    const le = nl > s && b[nl - 1] === 13 ? nl - 1 : nl;
    res.frameStart = s;
    res.lineEnd = le;
    res.frameEnd = nl + 1;
    res.error = "";
    res.keyStart = res.keyEnd = res.dataStart = res.dataEnd = res.bytes = 0;
    this.scan = nl + 1;
    if (startsWith(b, s, le, "VALUE ")) {
      // VALUE <key> <flags> <bytes> [<cas unique>]
      const ks = s + 6;
      const ke = spaceAt(b, ks, le);
      const fe = spaceAt(b, ke + 1, le);
      const be = spaceAt(b, fe + 1, le);
      const n = ke < le && fe < le ? parseSize(b, fe + 1, be) : -1;
      if (n < 0 || ke === ks) return this.fail(res, "malformed VALUE line");
      res.kind = ReplyKind.Value;
      res.terminal = false;
      res.keyStart = ks;
      res.keyEnd = ke;
      return this.startData(res, n, nl + 1);
    }
    if (startsWith(b, s, le, "VA ")) {
      const n = parseSize(b, s + 3, spaceAt(b, s + 3, le));
      if (n < 0) return this.fail(res, "malformed VA line");
      res.kind = ReplyKind.MetaValue;
      res.terminal = true;
      return this.startData(res, n, nl + 1);
    }
    if (le - s === 3 && startsWith(b, s, le, "END")) {
      res.kind = ReplyKind.End;
      res.terminal = true;
    } else if (
      startsWith(b, s, le, "ERROR") ||
      startsWith(b, s, le, "CLIENT_ERROR") ||
      startsWith(b, s, le, "SERVER_ERROR")
    ) {
      res.kind = ReplyKind.Error;
      res.terminal = true;
    } else if (startsWith(b, s, le, "STAT ")) {
      res.kind = ReplyKind.Stat;
      res.terminal = false;
    } else {
      res.kind = ReplyKind.Line;
      res.terminal = mode !== ReplyMode.Lines;
    }
    q.consume(nl + 1);
    return ParseStatus.Ok;
  }

  private startData(res: TextResponse, n: number, at: number): ParseStatus {
    if (n > this.maxValue) return this.fail(res, "value too large");
    res.bytes = n;
    res.dataStart = at;
    res.dataEnd = at + n;
    res.frameEnd = at + n + 2;
    this.pending = res;
    return this.finishData(res);
  }

  private finishData(res: TextResponse): ParseStatus {
    const q = this.q;
    if (q.end < res.frameEnd) return ParseStatus.NeedMore;
    this.pending = null;
    const b = q.buf;
    if (b[res.dataEnd] !== 13 || b[res.dataEnd + 1] !== 10)
      return this.fail(res, "data block not terminated by CRLF");
    q.consume(res.frameEnd);
    this.scan = res.frameEnd;
    return ParseStatus.Ok;
  }

  private fail(res: TextResponse, why: string): ParseStatus {
    this.broken = true;
    res.error = why;
    this.q.consume(this.q.end);
    return ParseStatus.Error;
  }
}
