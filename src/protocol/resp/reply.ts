/**
 * Resumable framer for RESP2/RESP3 replies (the proxy's server side). It does not build
 * values: it finds where each complete reply starts and ends, its type, and for an aggregate
 * the byte ranges of its top-level elements, so replies from several shards can be
 * re-assembled by copying ranges (e.g. MGET). Nesting is tracked on an explicit stack, never
 * by recursion. Types per the RESP3 spec (redis-doc docs/reference/protocol-spec.md):
 *   + - : _ , # (   one line          $ ! =   length-prefixed (=: verbatim)
 *   * ~ >           n elements        % |     n key/value pairs (|: attribute)
 * An attribute ('|') describes the value that follows it, so a top-level attribute and its
 * value form one frame whose `type` is the value's; inside an aggregate an attribute is not
 * an element but is counted inside the element it precedes.
 * Offsets stay valid until the next feed() or next() call.
 */
import { findByte } from "../../util/find-byte.js";
import { InputBuffer } from "./input-buffer.js";
import { parseLL } from "./int.js";
import { ParseStatus } from "./parser.js";

export interface ReplyLimits {
  maxBulkLen: number;
  /** Longest line (simple string, error, number) and longest wait for a line's '\r'. */
  maxLineLen: number;
  maxElements: number;
  maxDepth: number;
  /**
   * A bulk string at least this long that has not fully arrived may be handed out in pieces as
   * it comes (`streamable`, piece()): a top-level one, or one inside an array, set or map
   * reply (then the whole reply streams from there on); so may an array, set or map reply
   * once this many of its bytes were received (many small elements); 0 never.
   */
  streamMin?: number;
}

export const DEFAULT_REPLY_LIMITS: ReplyLimits = {
  maxBulkLen: 512 * 1024 * 1024,
  maxLineLen: 1024 * 1024,
  maxElements: 2 ** 31 - 1,
  maxDepth: 1024,
};

/**
 * `limits` over the defaults, as an object of one fixed shape. A spread (`{ ...defaults,
 * ...limits }`) gives each caller's mix of keys a shape of its own, and the framer reads its
 * limits on every line: with several shapes those reads went megamorphic (V8 --log-ic).
 */
function replyLimits(limits: Partial<ReplyLimits>): ReplyLimits {
  const d = DEFAULT_REPLY_LIMITS;
  return {
    maxBulkLen: limits.maxBulkLen ?? d.maxBulkLen,
    maxLineLen: limits.maxLineLen ?? d.maxLineLen,
    maxElements: limits.maxElements ?? d.maxElements,
    maxDepth: limits.maxDepth ?? d.maxDepth,
    streamMin: limits.streamMin ?? 0,
  };
}

/** Type bytes, for comparisons with RespReply.type. */
export const RespType = {
  SimpleString: 0x2b, // +
  Error: 0x2d, // -
  Integer: 0x3a, // :
  Bulk: 0x24, // $
  Array: 0x2a, // *
  Null: 0x5f, // _
  Double: 0x2c, // ,
  Boolean: 0x23, // #
  BlobError: 0x21, // !
  Verbatim: 0x3d, // =
  BigNumber: 0x28, // (
  Map: 0x25, // %
  Set: 0x7e, // ~
  Push: 0x3e, // >
  Attribute: 0x7c, // |
} as const;

export class RespReply {
  buf: Buffer = Buffer.alloc(0);
  frameStart = 0;
  frameEnd = 0;
  /** Where the value starts (after any attribute prefix). */
  bodyStart = 0;
  /** Type byte of the value (never Attribute). */
  type = 0;
  /** Aggregates: element count (a map's keys and values both count); -1 for *-1. Bulk: length, -1 for $-1. */
  count = 0;
  /** Integer replies: the value (NaN past 2^53 precision is not checked; see int.ts). */
  int = Number.NaN;
  /**
   * Aggregates: top-level elements i is buf[elemStart[i], elemEnd[i]). Empty for a reply that
   * streamed (piece()): its elements went out in pieces; bodyStart is then frameStart.
   */
  elemStart: number[] = [];
  elemEnd: number[] = [];
}

const LINE = 0;
const DATA = 1;
const FAILED = 2;
/** A top-level bulk handed out in pieces: `streamLeft` bytes of it (CRLF included) to come. */
const STREAM = 3;
const CR = 0x0d;

export class RespReplyFramer {
  readonly reply = new RespReply();
  readonly limits: ReplyLimits;
  /** After Error: what was wrong (the connection is out of sync and must be closed). */
  error = "";

  private readonly input = new InputBuffer();
  private pos = 0; // frame start
  private cursor = 0; // next unread byte
  private scan = 0; // where the next '\r' search starts
  private state = LINE;
  private dataLen = 0;
  /** Open aggregates: elements left and whether it is an attribute; depth = entries in use. */
  private left: number[] = [];
  private attr: boolean[] = [];
  private depth = 0;
  private bodySeen = false;
  private elemOpen = false;
  private elemBegin = 0; // relative to pos while the frame is open
  private streamLeft = 0;
  /**
   * The aggregate in progress streams (a nested bulk of streamMin or more, or streamMin bytes
   * of it received): bytes up to pos went out in pieces. Framing goes on as usual (the open
   * aggregates' element counts stay on the stack); only element ranges are no longer recorded,
   * since their bytes are gone.
   */
  private nested = false;
  /** After piece(): the piece is reply.buf[pieceStart, pieceEnd). */
  pieceStart = 0;
  pieceEnd = 0;

  constructor(limits: Partial<ReplyLimits> = {}) {
    this.limits = replyLimits(limits);
  }

  get pending(): number {
    return this.input.end - this.pos;
  }

  /** The type byte of the frame next() works on (its first byte), -1 before it arrives. */
  get nextType(): number {
    return this.pos < this.input.end ? this.input.buf[this.pos] : -1;
  }

  /**
   * After next() returned NeedMore: the reply in progress is a large bulk
   * (ReplyLimits.streamMin), top-level or inside an array, set or map reply, or such an
   * aggregate with streamMin bytes received, whose received bytes piece() may hand out now
   * instead of holding the reply until it is whole. Once a piece
   * was taken, every later one must be too: next() then returns the reply's last bytes as its
   * frame. The reply's type (never an error: an aggregate or a bulk) is known by then. A push
   * (`>`) never streams: it is out-of-band data, not a reply (protocol-spec.md "Push type").
   */
  get streamable(): boolean {
    if (this.state === STREAM || this.nested) return true;
    const min = this.limits.streamMin ?? 0;
    if (min <= 0) return false;
    const t = this.reply.type;
    if (this.depth === 0) return this.state === DATA && this.dataLen >= min && t === RespType.Bulk;
    if (!this.bodySeen || (t !== RespType.Array && t !== RespType.Set && t !== RespType.Map)) {
      return false;
    }
    if (this.state === DATA && this.dataLen >= min) return true;
    // Many small elements (LRANGE 0 -1 of a long list, HGETALL, KEYS, EXEC): once streamMin
    // bytes of it could go out, they do, rather than the whole reply being held.
    return this.framedEnd() - this.pos >= min;
  }

  /**
   * Inside an aggregate: the end of the bytes a piece may hold now (every line framed so far
   * and, inside a bulk, its data received so far, never its CRLF).
   */
  private framedEnd(): number {
    return this.state === DATA ? Math.min(this.input.end, this.cursor + this.dataLen) : this.cursor;
  }

  /**
   * Hands out the received bytes of a streamable reply as reply.buf[pieceStart, pieceEnd)
   * and forgets them; false when none are waiting. The last two bytes (CRLF) are never in a
   * piece: next() checks them and returns them as the end of the frame.
   */
  piece(): boolean {
    if (!this.streamable) return false;
    if (this.depth > 0) return this.nestedPiece();
    const frameEnd =
      this.state === STREAM ? this.pos + this.streamLeft : this.cursor + this.dataLen + 2;
    const e = Math.min(this.input.end, frameEnd - 2);
    if (e <= this.pos) return false;
    this.reply.buf = this.input.buf;
    this.pieceStart = this.pos;
    this.pieceEnd = e;
    this.streamLeft = frameEnd - e;
    this.pos = this.cursor = this.scan = e;
    this.state = STREAM;
    return true;
  }

  /**
   * A piece of a streaming aggregate: every byte framed so far (headers, whole elements) and,
   * inside a bulk, its data received so far. A bulk's CRLF is never in a piece (next() checks
   * it), so its data left shrinks by what went out and the DATA state resumes from there.
   */
  private nestedPiece(): boolean {
    const e = this.framedEnd();
    if (this.state === DATA) {
      this.dataLen -= e - this.cursor;
      this.cursor = e;
    }
    if (e <= this.pos) return false;
    if (!this.nested) {
      this.nested = true;
      this.reply.elemStart.length = 0;
      this.reply.elemEnd.length = 0;
    }
    this.reply.buf = this.input.buf;
    this.pieceStart = this.pos;
    this.pieceEnd = e;
    this.pos = e;
    if (this.scan < e) this.scan = e;
    return true;
  }

  feed(chunk: Buffer): void {
    if (this.state === FAILED || chunk.length === 0) return;
    // A stream's rest is handed out as it comes: nothing is sized for it.
    const need =
      this.state === DATA && !this.nested ? this.cursor + this.dataLen + 2 - this.pos : 0;
    const shift = this.input.append(chunk, this.pos, need);
    // Element offsets are relative to pos until the frame completes, so only these move.
    this.pos -= shift;
    this.cursor -= shift;
    this.scan -= shift;
    // The top-level body may have started in an earlier chunk: it moves with the bytes too.
    if (this.bodySeen) this.reply.bodyStart -= shift;
  }

  next(): ParseStatus {
    const r = this.reply;
    for (;;) {
      if (this.state === FAILED) return ParseStatus.Error;
      const { buf, end } = this.input;
      let done = false;
      let wasAttr = false;
      if (this.state === STREAM) {
        if (end - this.pos < this.streamLeft) return ParseStatus.NeedMore;
        const t = this.pos + this.streamLeft - 2;
        if (buf[t] !== CR || buf[t + 1] !== 0x0a)
          return this.fail("bulk data not followed by CRLF");
        // The frame is the bulk's last bytes; everything before went out in pieces.
        this.cursor = t + 2;
        this.state = LINE;
        this.finishFrame();
        return ParseStatus.Ok;
      }
      if (this.state === DATA) {
        if (end - this.cursor < this.dataLen + 2) return ParseStatus.NeedMore;
        const t = this.cursor + this.dataLen;
        if (buf[t] !== CR || buf[t + 1] !== 0x0a)
          return this.fail("bulk data not followed by CRLF");
        this.cursor = t + 2;
        this.state = LINE;
        done = true;
      } else {
        if (this.cursor >= end) return ParseStatus.NeedMore;
        if (this.scan < this.cursor) this.scan = this.cursor;
        const cr = findByte(buf, CR, this.scan, end);
        if (cr < 0) {
          this.scan = end;
          if (end - this.cursor > this.limits.maxLineLen) return this.fail("line too long");
          return ParseStatus.NeedMore;
        }
        this.scan = cr;
        if (cr + 1 >= end) return ParseStatus.NeedMore;
        if (buf[cr + 1] !== 0x0a) return this.fail("line not ended by CRLF");
        if (cr - this.cursor > this.limits.maxLineLen) return this.fail("line too long");
        const t = buf[this.cursor];
        const top = this.depth === 0;
        if (this.depth === 1 && !this.attr[0] && !this.elemOpen) {
          this.elemOpen = true;
          this.elemBegin = this.cursor - this.pos;
        }
        if (top && t !== RespType.Attribute) {
          r.type = t;
          r.bodyStart = this.cursor;
          r.int = Number.NaN;
          r.count = 0;
          r.elemStart.length = 0;
          r.elemEnd.length = 0;
          this.bodySeen = true;
        }
        const lineStart = this.cursor + 1;
        this.cursor = cr + 2;
        switch (t) {
          case RespType.SimpleString:
          case RespType.Error:
          case RespType.Double:
          case RespType.BigNumber:
            done = true;
            break;
          case RespType.Integer: {
            const v = parseLL(buf, lineStart, cr);
            if (Number.isNaN(v)) return this.fail("bad integer");
            if (top) r.int = v;
            done = true;
            break;
          }
          case RespType.Null:
            if (cr !== lineStart) return this.fail("bad null");
            done = true;
            break;
          case RespType.Boolean:
            if (cr !== lineStart + 1 || (buf[lineStart] !== 0x74 && buf[lineStart] !== 0x66)) {
              return this.fail("bad boolean");
            }
            done = true;
            break;
          case RespType.Bulk:
          case RespType.BlobError:
          case RespType.Verbatim: {
            const n = parseLL(buf, lineStart, cr);
            if (n === -1 && t === RespType.Bulk) {
              if (top) r.count = -1;
              done = true;
              break;
            }
            if (!(n >= 0) || n > this.limits.maxBulkLen) return this.fail("bad bulk length");
            if (top) r.count = n;
            this.dataLen = n;
            this.state = DATA;
            break;
          }
          case RespType.Array:
          case RespType.Set:
          case RespType.Push:
          case RespType.Map:
          case RespType.Attribute: {
            const n = parseLL(buf, lineStart, cr);
            if (n === -1 && t === RespType.Array) {
              if (top) r.count = -1;
              done = true;
              break;
            }
            const pairs = t === RespType.Map || t === RespType.Attribute;
            if (!(n >= 0) || n * (pairs ? 2 : 1) > this.limits.maxElements) {
              return this.fail("bad aggregate length");
            }
            const elems = pairs ? n * 2 : n;
            const isAttr = t === RespType.Attribute;
            if (top && !isAttr) r.count = elems;
            if (elems === 0) {
              done = true;
              wasAttr = isAttr;
              break;
            }
            if (this.depth >= this.limits.maxDepth) return this.fail("nesting too deep");
            this.left[this.depth] = elems;
            this.attr[this.depth] = isAttr;
            this.depth++;
            break;
          }
          default:
            return this.fail(`unknown type byte 0x${t.toString(16)}`);
        }
      }
      if (done && this.complete(wasAttr)) return ParseStatus.Ok;
    }
  }

  /** A value ended at cursor: pop finished aggregates; true when a whole frame is complete. */
  private complete(wasAttr: boolean): boolean {
    for (;;) {
      if (this.depth === 0) {
        if (wasAttr || !this.bodySeen) return false; // an attribute: its value follows
        return this.finishFrame();
      }
      const d = this.depth - 1;
      if (wasAttr) {
        // An attribute inside an aggregate is not one of its elements.
        if (this.left[d] > 0) return false;
      } else {
        this.left[d]--;
        if (d === 0 && !this.attr[0] && !this.nested) {
          const r = this.reply;
          r.elemStart.push(this.elemBegin);
          r.elemEnd.push(this.cursor - this.pos);
          this.elemOpen = false;
        }
        if (this.left[d] > 0) return false;
      }
      wasAttr = this.attr[d];
      this.depth--;
    }
  }

  private finishFrame(): boolean {
    const r = this.reply;
    r.buf = this.input.buf;
    r.frameStart = this.pos;
    r.frameEnd = this.cursor;
    for (let i = 0; i < r.elemStart.length; i++) {
      r.elemStart[i] += this.pos;
      r.elemEnd[i] += this.pos;
    }
    if (this.nested) r.bodyStart = this.pos;
    this.pos = this.cursor;
    this.bodySeen = false;
    this.elemOpen = false;
    this.nested = false;
    return true;
  }

  private fail(what: string): ParseStatus {
    this.error = `RESP reply: ${what}`;
    this.state = FAILED;
    this.nested = false;
    this.input.clear();
    this.pos = this.cursor = this.scan = 0;
    return ParseStatus.Error;
  }
}
