/**
 * Resumable RESP request parser (the proxy's client side), following redis-server's own
 * reader (networking.c processInputBuffer / processMultibulkBuffer / processInlineBuffer):
 * a request starting with '*' is a multibulk of '$' bulk strings, anything else is an inline
 * line. Pure: fed Buffers, no sockets or timers. State is explicit so a frame split across
 * chunks resumes where it stopped; consumed bytes are never scanned twice.
 *
 * Offsets in `req` point into `req.buf` and stay valid until the next feed() or next() call.
 */
import { findByte } from "../../util/find-byte.js";
import type { ArgView } from "./command-types.js";
import { lookupCommand } from "./commands.js";
import { splitInline } from "./inline.js";
import { InputBuffer } from "./input-buffer.js";
import { parseLL } from "./int.js";

export const ParseStatus = {
  Ok: 0,
  NeedMore: 1,
  Error: 2,
  /**
   * A large last argument is arriving (RequestLimits.streamMin): `req` describes the whole
   * request, but only [frameStart, frameEnd) of its bytes are here; the last argument's
   * offsets point past them and must not be read. The caller may take the rest as pieces
   * (acceptStream()), or call next() again to have the request buffered whole as usual.
   */
  Partial: 3,
  /** After acceptStream(): bytes [pieceStart, pieceEnd) of `req.buf` continue the request. */
  Piece: 4,
} as const;
export type ParseStatus = (typeof ParseStatus)[keyof typeof ParseStatus];

export interface RequestLimits {
  /** Most arguments in one multibulk (redis accepts up to INT_MAX; a proxy wants less). */
  maxArgs: number;
  /** proto-max-bulk-len (redis default 512 MB). */
  maxBulkLen: number;
  /** PROTO_INLINE_MAX_SIZE (64 KB): longest inline line, or '*'/'$' line waiting for '\r'. */
  maxInlineLen: number;
  /**
   * The setting that raises maxBulkLen, named in the error when a bulk is over it (the proxy:
   * its pool's max_request_bytes); redis-server's plain text when undefined.
   */
  maxBulkSetting?: string;
  /**
   * A last argument at least this long that has not fully arrived is offered as a stream
   * (ParseStatus.Partial); 0 never offers one.
   */
  streamMin?: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxArgs: 1024 * 1024,
  maxBulkLen: 512 * 1024 * 1024,
  maxInlineLen: 64 * 1024,
};

/**
 * `limits` over the defaults, as an object of one fixed shape. A spread (`{ ...defaults,
 * ...limits }`) gives each caller's mix of keys a shape of its own, and the parser reads its
 * limits on every header line: with several shapes those reads went megamorphic (V8 --log-ic).
 */
function requestLimits(limits: Partial<RequestLimits>): RequestLimits {
  const d = DEFAULT_REQUEST_LIMITS;
  return {
    maxArgs: limits.maxArgs ?? d.maxArgs,
    maxBulkLen: limits.maxBulkLen ?? d.maxBulkLen,
    maxInlineLen: limits.maxInlineLen ?? d.maxInlineLen,
    maxBulkSetting: limits.maxBulkSetting,
    streamMin: limits.streamMin ?? 0,
  };
}

/** One parsed request; the parser reuses a single instance. */
export class RespRequest implements ArgView {
  buf: Buffer = Buffer.alloc(0);
  argc = 0;
  argStart: number[] = [];
  argEnd: number[] = [];
  /** The request's own bytes in the parser's buffer (inline lines include their newline). */
  frameStart = 0;
  frameEnd = 0;
  /** Inline form: forward a re-encoded multibulk, not the frame bytes. */
  inline = false;
  /** Top-level command id from commands.ts (-1 if Redis has no such command). */
  cmd = -1;
}

const HEAD = 0;
const BULK_LEN = 1;
const BULK_DATA = 2;
const FAILED = 3;
/** Handing out the rest of an accepted Partial request as pieces. */
const BODY = 4;

/** ParseStatus.Partial offers of the frame in progress. */
const OFFER_NONE = 0;
const OFFER_MADE = 1;
const OFFER_DECLINED = 2;

const CR = 0x0d;
const LF = 0x0a;

export class RespRequestParser {
  readonly req = new RespRequest();
  readonly limits: RequestLimits;
  /** After Error: the exact reply redis-server sends, CRLF included. */
  errorReply = "";
  /** After Error: redis closes the connection once the reply is written. */
  close = false;

  private readonly input = new InputBuffer();
  /** Start of the unconsumed bytes (the frame in progress). */
  private pos = 0;
  private state = HEAD;
  /** Where the next search for '\r' or '\n' starts (never before bytes already scanned). */
  private scan = 0;
  /** Multibulk: next unread byte of the frame, bulk strings left, current bulk length. */
  private cursor = 0;
  private left = 0;
  private bulkLen = 0;
  private offer = OFFER_NONE;
  /** BODY: bytes of the request still to hand out (the argument's rest and its CRLF). */
  private bodyLeft = 0;
  /** After Piece: the piece is req.buf[pieceStart, pieceEnd); `pieceLast` ends the request. */
  pieceStart = 0;
  pieceEnd = 0;
  pieceLast = false;

  constructor(limits: Partial<RequestLimits> = {}) {
    this.limits = requestLimits(limits);
  }

  /** The bytes received and not yet returned as requests. */
  get pending(): number {
    return this.input.end - this.pos;
  }

  feed(chunk: Buffer): void {
    if (this.state === FAILED || chunk.length === 0) return;
    // An offer not taken before more bytes arrive is declined (its offsets are absolute).
    if (this.offer === OFFER_MADE) this.decline();
    const need = this.state === BULK_DATA ? this.cursor + this.bulkLen + 2 - this.pos : 0;
    const shift = this.input.append(chunk, this.pos, need);
    if (shift === 0) return;
    // Argument offsets of the frame in progress are kept relative to pos, so only these move.
    this.pos -= shift;
    this.scan -= shift;
    this.cursor -= shift;
  }

  /** Parses the next request: Ok (see `req`), NeedMore (feed more bytes) or Error (see errorReply). */
  next(): ParseStatus {
    for (;;) {
      switch (this.state) {
        case HEAD: {
          if (this.pos >= this.input.end) return ParseStatus.NeedMore;
          if (this.scan < this.pos) this.scan = this.pos;
          const r = this.input.buf[this.pos] === 0x2a ? this.multibulkHeader() : this.inlineLine();
          if (r !== -1) return r;
          break; // an empty request was skipped, or the header was read: go on
        }
        case BULK_LEN: {
          const r = this.bulkHeader();
          if (r !== -1) return r;
          break;
        }
        case BULK_DATA: {
          const { buf, end } = this.input;
          if (this.offer === OFFER_MADE) this.decline();
          if (end - this.cursor < this.bulkLen + 2) {
            const min = this.limits.streamMin ?? 0;
            if (this.offer === OFFER_NONE && this.left === 1 && min > 0 && this.bulkLen >= min)
              return this.offerStream();
            return ParseStatus.NeedMore;
          }
          this.offer = OFFER_NONE;
          const req = this.req;
          // Relative to the frame start while the frame is incomplete (see feed()).
          req.argStart[req.argc] = this.cursor - this.pos;
          req.argEnd[req.argc] = this.cursor - this.pos + this.bulkLen;
          req.argc++;
          // Like redis, the two bytes after the data are skipped unchecked (they should be CRLF).
          this.cursor += this.bulkLen + 2;
          if (--this.left > 0) {
            this.state = BULK_LEN;
            this.scan = this.cursor;
            break;
          }
          for (let i = 0; i < req.argc; i++) {
            req.argStart[i] += this.pos;
            req.argEnd[i] += this.pos;
          }
          req.buf = buf;
          req.frameStart = this.pos;
          req.frameEnd = this.cursor;
          req.inline = false;
          req.cmd = lookupCommand(buf, req.argStart[0], req.argEnd[0]);
          this.pos = this.cursor;
          this.state = HEAD;
          return ParseStatus.Ok;
        }
        case BODY:
          return this.piece();
        default:
          return ParseStatus.Error;
      }
    }
  }

  /**
   * Offers the request whose last argument is still arriving: `req` gets every argument with
   * absolute offsets (the last one's reach past the received bytes) and the received bytes as
   * its frame.
   */
  private offerStream(): ParseStatus {
    const req = this.req;
    const { buf, end } = this.input;
    req.argStart[req.argc] = this.cursor - this.pos;
    req.argEnd[req.argc] = this.cursor - this.pos + this.bulkLen;
    req.argc++;
    for (let i = 0; i < req.argc; i++) {
      req.argStart[i] += this.pos;
      req.argEnd[i] += this.pos;
    }
    req.buf = buf;
    req.frameStart = this.pos;
    req.frameEnd = end;
    req.inline = false;
    req.cmd = lookupCommand(buf, req.argStart[0], req.argEnd[0]);
    this.offer = OFFER_MADE;
    return ParseStatus.Partial;
  }

  /** The offer was not taken: the frame is buffered whole, as any other. */
  private decline(): void {
    const req = this.req;
    req.argc--;
    for (let i = 0; i < req.argc; i++) {
      req.argStart[i] -= this.pos;
      req.argEnd[i] -= this.pos;
    }
    this.offer = OFFER_DECLINED;
  }

  /**
   * Takes the offered request as a stream: its received bytes were the frame handed out with
   * Partial, and next() now returns the rest as Pieces as it arrives, never holding it.
   */
  acceptStream(): void {
    if (this.state !== BULK_DATA || this.offer !== OFFER_MADE) {
      throw new Error("resp parser: acceptStream() without a Partial offer");
    }
    const end = this.input.end;
    this.bodyLeft = this.cursor + this.bulkLen + 2 - end;
    this.pos = this.cursor = this.scan = end;
    this.offer = OFFER_NONE;
    this.state = BODY;
  }

  /** The next piece of an accepted stream (the argument's trailing CRLF is skipped unchecked, as redis does). */
  private piece(): ParseStatus {
    const { buf, end } = this.input;
    if (this.pos >= end) return ParseStatus.NeedMore;
    const n = Math.min(end - this.pos, this.bodyLeft);
    this.req.buf = buf;
    this.pieceStart = this.pos;
    this.pieceEnd = this.pos + n;
    this.bodyLeft -= n;
    this.pos = this.cursor = this.scan = this.pos + n;
    this.pieceLast = this.bodyLeft === 0;
    if (this.pieceLast) this.state = HEAD;
    return ParseStatus.Piece;
  }

  /** Reads "*<count>\r\n". Returns a status, or -1 to continue the loop. */
  private multibulkHeader(): ParseStatus | -1 {
    const { buf, end } = this.input;
    const r = findByte(buf, CR, this.scan, end);
    if (r < 0) {
      this.scan = end;
      if (end - this.pos > this.limits.maxInlineLen) return this.fail("too big mbulk count string");
      return ParseStatus.NeedMore;
    }
    this.scan = r;
    if (r + 1 >= end) return ParseStatus.NeedMore; // the byte after '\r' (should be '\n')
    const n = parseLL(buf, this.pos + 1, r);
    if (Number.isNaN(n) || n > 2147483647 || n > this.limits.maxArgs) {
      return this.fail("invalid multibulk length");
    }
    if (n <= 0) {
      this.pos = r + 2; // "*0" and "*-1" are skipped without a reply
      return -1;
    }
    this.req.argc = 0;
    this.left = n;
    this.cursor = r + 2;
    this.scan = this.cursor;
    this.state = BULK_LEN;
    return -1;
  }

  /** Reads "$<len>\r\n". */
  private bulkHeader(): ParseStatus | -1 {
    const { buf, end } = this.input;
    const r = findByte(buf, CR, this.scan, end);
    if (r < 0) {
      this.scan = end;
      if (end - this.cursor > this.limits.maxInlineLen) {
        return this.fail("too big bulk count string");
      }
      return ParseStatus.NeedMore;
    }
    this.scan = r;
    if (r + 1 >= end) return ParseStatus.NeedMore;
    const c = buf[this.cursor];
    if (c !== 0x24) return this.fail(`expected '$', got '${printable(c)}'`);
    const n = parseLL(buf, this.cursor + 1, r);
    if (Number.isNaN(n) || n < 0) return this.fail("invalid bulk length");
    if (n > this.limits.maxBulkLen) {
      const setting = this.limits.maxBulkSetting;
      return this.fail(
        setting === undefined
          ? "invalid bulk length"
          : `invalid bulk length (${n} bytes; the limit is ${this.limits.maxBulkLen} bytes, ${setting})`,
      );
    }
    this.bulkLen = n;
    this.cursor = r + 2;
    this.state = BULK_DATA;
    return -1;
  }

  /** Reads one inline line. */
  private inlineLine(): ParseStatus | -1 {
    const { buf, end } = this.input;
    const nl = findByte(buf, LF, this.scan, end);
    if (nl < 0) {
      this.scan = end;
      if (end - this.pos > this.limits.maxInlineLen) return this.fail("too big inline request");
      return ParseStatus.NeedMore;
    }
    const lineEnd = nl > this.pos && buf[nl - 1] === CR ? nl - 1 : nl;
    const req = this.req;
    if (!splitInline(buf, this.pos, lineEnd, req)) return this.fail("unbalanced quotes in request");
    const start = this.pos;
    this.pos = nl + 1;
    if (req.argc === 0) return -1; // empty line: redis ignores it
    req.frameStart = start;
    req.frameEnd = nl + 1;
    req.inline = true;
    req.cmd = lookupCommand(req.buf, req.argStart[0], req.argEnd[0]);
    return ParseStatus.Ok;
  }

  private fail(what: string): ParseStatus {
    this.errorReply = `-ERR Protocol error: ${what}\r\n`;
    this.close = true;
    this.state = FAILED;
    this.offer = OFFER_NONE;
    this.req.argc = 0;
    this.input.clear();
    this.pos = 0;
    return ParseStatus.Error;
  }
}

/** addReplyErrorFormat replaces '\r' and '\n' by spaces so the reply stays one line (7.0). */
function printable(c: number): string {
  return c === CR || c === LF ? " " : String.fromCharCode(c);
}
