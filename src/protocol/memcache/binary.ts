/**
 * Resumable request parser for the memcached binary protocol (protocol-binary.txt). A frame is
 * the 24-byte header plus `bodyLen` bytes: extras, key, value. The header checks and replies
 * follow memcached 1.6.18 proto_bin.c (dispatch_bin_command, process_bin_update).
 */

import { binaryStatus, HEADER_LENGTH, isQuiet, MAGIC_REQUEST, Opcode } from "./binary-const.js";
import { ByteQueue, ParseStatus } from "./input.js";
import { KEY_MAX_LENGTH } from "./tokens.js";

export {
  binaryStatus,
  HEADER_LENGTH,
  isQuiet,
  MAGIC_REQUEST,
  MAGIC_RESPONSE,
  Opcode,
  writeBinaryHeader,
} from "./binary-const.js";
export { ParseStatus } from "./input.js";

export class BinaryRequest {
  opcode = 0;
  /** A quiet variant (GetQ, SetQ, ...). */
  quiet = false;
  keyLen = 0;
  extrasLen = 0;
  datatype = 0;
  vbucket = 0;
  bodyLen = 0;
  opaque = 0;
  casHi = 0;
  casLo = 0;
  frameStart = 0;
  frameEnd = 0;
  extrasStart = 0;
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  /** Set/Add/Replace extras. */
  flags = 0;
  /** Set/Add/Replace, Incr/Decr, Touch/Gat, Flush (when hasExptime). int32 like memcached. */
  exptime = 0;
  hasExptime = false;
  /** Incr/Decr delta and initial value (uint64 halves). */
  deltaHi = 0;
  deltaLo = 0;
  initialHi = 0;
  initialLo = 0;
  /** Verbosity level. */
  level = 0;
  /** With status Error: the binary status to answer with, and whether to close afterwards. */
  status = 0;
  close = false;
  /** No reply at all: the connection is closed (bad magic). */
  silent = false;
}

export interface BinaryParserOptions {
  /** Values larger than this are swallowed and answered with ValueTooLarge (E2BIG). */
  maxValueBytes?: number;
}

/** Is the header's extras/key/body shape what memcached accepts for this opcode? */
function shapeOk(op: number, ext: number, key: number, body: number): boolean {
  switch (op) {
    case Opcode.Version:
    case Opcode.Noop:
    case Opcode.Quit:
    case Opcode.QuitQ:
      return ext === 0 && key === 0 && body === 0;
    case Opcode.Flush:
    case Opcode.FlushQ:
      return key === 0 && body === ext && (ext === 0 || ext === 4);
    case Opcode.Set:
    case Opcode.SetQ:
    case Opcode.Add:
    case Opcode.AddQ:
    case Opcode.Replace:
    case Opcode.ReplaceQ:
      return ext === 8 && key !== 0 && body >= key + 8;
    case Opcode.Get:
    case Opcode.GetQ:
    case Opcode.GetK:
    case Opcode.GetKQ:
    case Opcode.Delete:
    case Opcode.DeleteQ:
      return ext === 0 && key > 0 && body === key;
    case Opcode.Increment:
    case Opcode.IncrementQ:
    case Opcode.Decrement:
    case Opcode.DecrementQ:
      return key > 0 && ext === 20 && body === key + 20;
    case Opcode.Append:
    case Opcode.AppendQ:
    case Opcode.Prepend:
    case Opcode.PrependQ:
      return key > 0 && ext === 0;
    case Opcode.Stat:
      return ext === 0 && body === key;
    case Opcode.Verbosity:
      return ext === 4 && key === 0 && body === 4;
    case Opcode.Touch:
    case Opcode.Gat:
    case Opcode.GatQ:
    case Opcode.GatK:
    case Opcode.GatKQ:
      return ext === 4 && key !== 0 && body === key + 4;
    default:
      return true;
  }
}

function known(op: number): boolean {
  return op <= Opcode.GatKQ && op !== 0x1f && (op < 0x20 || op > 0x22);
}

function hasValue(op: number): boolean {
  return (op >= 0x01 && op <= 0x03) || (op >= 0x11 && op <= 0x13) || op === 0x0e || op === 0x0f;
}

export class BinaryRequestParser {
  private readonly q = new ByteQueue();
  private readonly maxValue: number;
  private swallow = 0;
  private closed = false;

  constructor(opts: BinaryParserOptions = {}) {
    this.maxValue = opts.maxValueBytes ?? 1 << 20;
  }

  get buffer(): Buffer {
    return this.q.buf;
  }

  get buffered(): number {
    return this.q.length;
  }

  feed(chunk: Buffer): void {
    if (!this.closed) this.q.feed(chunk);
  }

  /** Copies unconsumed input out of the last chunk fed, so its memory may be reused (ByteQueue.retain). */
  retain(): void {
    // No offsets are kept between frames (next() restarts at q.start), so none need shifting.
    this.q.retain();
  }

  next(req: BinaryRequest): ParseStatus {
    const q = this.q;
    if (this.closed) return ParseStatus.NeedMore;
    if (this.swallow > 0) {
      const n = Math.min(this.swallow, q.length);
      q.consume(q.start + n);
      this.swallow -= n;
      if (this.swallow > 0) return ParseStatus.NeedMore;
    }
    if (q.length < HEADER_LENGTH) return ParseStatus.NeedMore;
    const b = q.buf;
    const s = q.start;
    req.frameStart = s;
    req.status = 0;
    req.close = req.silent = false;
    if (b[s] !== MAGIC_REQUEST) {
      // try_read_command_binary: a wrong magic closes the connection without a reply.
      req.status = binaryStatus.InvalidArguments;
      req.close = req.silent = true;
      req.frameEnd = q.end;
      return this.fatal();
    }
    const op = b[s + 1];
    const keyLen = b.readUInt16BE(s + 2);
    const ext = b[s + 4];
    const body = b.readUInt32BE(s + 8);
    req.opcode = op;
    req.quiet = isQuiet(op);
    req.keyLen = keyLen;
    req.extrasLen = ext;
    req.datatype = b[s + 5];
    req.vbucket = b.readUInt16BE(s + 6);
    req.bodyLen = body;
    req.opaque = b.readUInt32BE(s + 12);
    req.casHi = b.readUInt32BE(s + 16);
    req.casLo = b.readUInt32BE(s + 20);
    req.extrasStart = s + HEADER_LENGTH;
    req.keyStart = req.extrasStart + ext;
    req.keyEnd = req.keyStart + keyLen;
    req.valueStart = req.keyEnd;
    req.valueEnd = req.extrasStart + body;
    req.frameEnd = req.valueEnd;
    if (keyLen + ext > body) {
      // dispatch_bin_command answers UNKNOWN_COMMAND and closes.
      req.status = binaryStatus.UnknownCommand;
      req.close = true;
      return this.fatal();
    }
    if (keyLen > KEY_MAX_LENGTH || (known(op) && !shapeOk(op, ext, keyLen, body))) {
      // handle_binary_protocol_error: EINVAL, then close.
      req.status = binaryStatus.InvalidArguments;
      req.close = true;
      return this.fatal();
    }
    if (!known(op) || (hasValue(op) && body - keyLen - ext > this.maxValue)) {
      // Unknown opcode (SASL included: no SASL support) or a value too large: reply, skip body.
      req.status = known(op) ? binaryStatus.ValueTooLarge : binaryStatus.UnknownCommand;
      q.consume(s + HEADER_LENGTH);
      this.swallow = body;
      return ParseStatus.Error;
    }
    if (q.end < req.frameEnd) return ParseStatus.NeedMore;
    this.decodeExtras(b, req);
    q.consume(req.frameEnd);
    return ParseStatus.Ok;
  }

  private fatal(): ParseStatus {
    this.closed = true;
    this.q.consume(this.q.end);
    return ParseStatus.Error;
  }

  /** Extras per opcode (protocol-binary.txt "Commands"). */
  private decodeExtras(b: Buffer, req: BinaryRequest): void {
    const x = req.extrasStart;
    req.hasExptime = false;
    switch (req.extrasLen) {
      case 8: // Set/Add/Replace: flags, expiration
        req.flags = b.readUInt32BE(x);
        req.exptime = b.readInt32BE(x + 4);
        req.hasExptime = true;
        break;
      case 20: // Incr/Decr: delta, initial, expiration
        req.deltaHi = b.readUInt32BE(x);
        req.deltaLo = b.readUInt32BE(x + 4);
        req.initialHi = b.readUInt32BE(x + 8);
        req.initialLo = b.readUInt32BE(x + 12);
        req.exptime = b.readInt32BE(x + 16);
        req.hasExptime = true;
        break;
      case 4:
        if (req.opcode === Opcode.Verbosity) req.level = b.readUInt32BE(x);
        else {
          // Flush, Touch, Gat: expiration
          req.exptime = b.readInt32BE(x);
          req.hasExptime = true;
        }
        break;
    }
  }
}
