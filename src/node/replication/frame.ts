/**
 * The replication wire format between keepcache nodes (our own; no upstream spec). Every frame
 * is length-prefixed so a reader never scans for delimiters:
 *
 *   u32 BE  length of what follows (type byte + body)
 *   u8      frame type (FrameType)
 *   ...     body
 *
 * Live records (REC) are stored in the sender's backlog ring exactly as they go on the wire,
 * so streaming a backlog range is a byte copy. Snapshot items (SNAP) share the record body but
 * do not advance the replication offset. 64-bit numbers (offsets, versions) travel as two
 * u32 BE halves, matching the store's hi/lo versions; offsets stay below 2^53.
 *
 * The parser is pure and resumable: fed Buffers, it reads one 4-byte length per frame and never
 * re-reads consumed bytes.
 */
import { ByteQueue, ParseStatus } from "../../protocol/memcache/input.js";

export { ParseStatus };

export const FrameType = {
  Hello: 1,
  Auth: 2,
  Psync: 3,
  Continue: 4,
  FullSync: 5,
  SnapEnd: 6,
  Rec: 7,
  Snap: 8,
  Ack: 9,
  Ping: 10,
  Pong: 11,
  Error: 12,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** What a record says about its key: the resulting state, never the command that made it. */
export const RecOp = { Set: 1, Del: 2, Flush: 3 } as const;
export type RecOp = (typeof RecOp)[keyof typeof RecOp];

export const PROTOCOL_VERSION = 1;
export const RUN_ID_BYTES = 16;
export const NONCE_BYTES = 16;
export const MAC_BYTES = 32;
/** u32 length + u8 type. */
export const FRAME_HEADER = 5;
/** Record body before key and value: op, verHi, verLo, flags, exptime, klen, vlen. */
export const REC_FIXED = 1 + 4 + 4 + 4 + 4 + 1 + 4;
const HELLO_BODY = 1 + 2 + 2 + RUN_ID_BYTES + NONCE_BYTES;
const SYNC_BODY = RUN_ID_BYTES + 8;

const TWO32 = 0x1_0000_0000;

/** One parsed frame: its type and the body's range in the parser's buffer. */
export class Frame {
  type = 0;
  bodyStart = 0;
  bodyEnd = 0;
  /** Set when the parser reports an error. */
  error = "";
}

/** A decoded record; key and value are ranges of `buf`. */
export class Record {
  op = 0;
  verHi = 0;
  verLo = 0;
  flags = 0;
  exptime = 0;
  buf: Buffer = Buffer.alloc(0);
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
}

export interface Hello {
  protocol: number;
  nodeId: number;
  replPort: number;
  runId: Buffer;
  nonce: Buffer;
}

export interface SyncPoint {
  runId: Buffer;
  offset: number;
}

export class FrameParser {
  private readonly q = new ByteQueue();
  constructor(private readonly maxFrameBytes: number) {}

  feed(chunk: Buffer): void {
    this.q.feed(chunk);
  }

  /** The buffer the last frame's offsets point into (valid until the next feed). */
  get buffer(): Buffer {
    return this.q.buf;
  }

  next(f: Frame): ParseStatus {
    const q = this.q;
    if (q.length < FRAME_HEADER) return ParseStatus.NeedMore;
    const len = q.buf.readUInt32BE(q.start);
    if (len < 1 || len > this.maxFrameBytes) {
      f.error = `frame length ${len} out of range`;
      return ParseStatus.Error;
    }
    if (q.length < 4 + len) return ParseStatus.NeedMore;
    f.type = q.buf[q.start + 4];
    f.bodyStart = q.start + FRAME_HEADER;
    f.bodyEnd = q.start + 4 + len;
    q.consume(f.bodyEnd);
    return ParseStatus.Ok;
  }
}

function u64At(buf: Buffer, off: number): number {
  return buf.readUInt32BE(off) * TWO32 + buf.readUInt32BE(off + 4);
}

function putU64(buf: Buffer, off: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / TWO32), off);
  buf.writeUInt32BE(n % TWO32, off + 4);
}

function frame(type: FrameType, bodyLen: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER + bodyLen);
  b.writeUInt32BE(1 + bodyLen, 0);
  b[4] = type;
  return b;
}

function expectLen(f: Frame, n: number, what: string): void {
  if (f.bodyEnd - f.bodyStart !== n)
    throw new RangeError(`${what}: body of ${f.bodyEnd - f.bodyStart} bytes, want ${n}`);
}

export function encodeHello(h: Hello): Buffer {
  const b = frame(FrameType.Hello, HELLO_BODY);
  b[5] = h.protocol;
  b.writeUInt16BE(h.nodeId, 6);
  b.writeUInt16BE(h.replPort, 8);
  h.runId.copy(b, 10, 0, RUN_ID_BYTES);
  h.nonce.copy(b, 10 + RUN_ID_BYTES, 0, NONCE_BYTES);
  return b;
}

export function decodeHello(buf: Buffer, f: Frame): Hello {
  expectLen(f, HELLO_BODY, "HELLO");
  const o = f.bodyStart;
  return {
    protocol: buf[o],
    nodeId: buf.readUInt16BE(o + 1),
    replPort: buf.readUInt16BE(o + 3),
    runId: Buffer.from(buf.subarray(o + 5, o + 5 + RUN_ID_BYTES)),
    nonce: Buffer.from(buf.subarray(o + 5 + RUN_ID_BYTES, o + 5 + RUN_ID_BYTES + NONCE_BYTES)),
  };
}

export function encodeAuth(mac: Buffer): Buffer {
  const b = frame(FrameType.Auth, MAC_BYTES);
  mac.copy(b, 5, 0, MAC_BYTES);
  return b;
}

export function decodeAuth(buf: Buffer, f: Frame): Buffer {
  expectLen(f, MAC_BYTES, "AUTH");
  return Buffer.from(buf.subarray(f.bodyStart, f.bodyEnd));
}

/** PSYNC, CONTINUE and FULLSYNC share one body: a run id and an offset. */
export function encodeSync(type: FrameType, p: SyncPoint): Buffer {
  const b = frame(type, SYNC_BODY);
  p.runId.copy(b, 5, 0, RUN_ID_BYTES);
  putU64(b, 5 + RUN_ID_BYTES, p.offset);
  return b;
}

export function decodeSync(buf: Buffer, f: Frame): SyncPoint {
  expectLen(f, SYNC_BODY, "sync frame");
  return {
    runId: Buffer.from(buf.subarray(f.bodyStart, f.bodyStart + RUN_ID_BYTES)),
    offset: u64At(buf, f.bodyStart + RUN_ID_BYTES),
  };
}

/** ACK carries an offset; PING/PONG a millisecond timestamp (both as u64). */
export function encodeU64Frame(type: FrameType, n: number): Buffer {
  const b = frame(type, 8);
  putU64(b, 5, n);
  return b;
}

export function decodeU64Frame(buf: Buffer, f: Frame): number {
  expectLen(f, 8, "u64 frame");
  return u64At(buf, f.bodyStart);
}

export function encodeEmpty(type: FrameType): Buffer {
  return frame(type, 0);
}

export function encodeError(text: string): Buffer {
  const body = Buffer.from(text, "utf8");
  const b = frame(FrameType.Error, body.length);
  body.copy(b, 5);
  return b;
}

export function decodeError(buf: Buffer, f: Frame): string {
  return buf.toString("utf8", f.bodyStart, f.bodyEnd);
}

/** Bytes a record frame takes on the wire. */
export function recordFrameLength(keyLen: number, valueLen: number): number {
  return FRAME_HEADER + REC_FIXED + keyLen + valueLen;
}

/**
 * Writes a REC or SNAP frame at `off` (caller ensured room); the value is copied from
 * val[vs..ve). Returns the offset after it.
 */
export function writeRecord(
  out: Buffer,
  off: number,
  type: FrameType,
  op: RecOp,
  verHi: number,
  verLo: number,
  flags: number,
  exptime: number,
  key: Uint8Array,
  ks: number,
  ke: number,
  val: Uint8Array | null,
  vs: number,
  ve: number,
): number {
  const klen = ke - ks;
  const vlen = val === null ? 0 : ve - vs;
  out.writeUInt32BE(1 + REC_FIXED + klen + vlen, off);
  out[off + 4] = type;
  out[off + 5] = op;
  out.writeUInt32BE(verHi >>> 0, off + 6);
  out.writeUInt32BE(verLo >>> 0, off + 10);
  out.writeUInt32BE(flags >>> 0, off + 14);
  out.writeUInt32BE(exptime >>> 0, off + 18);
  out[off + 22] = klen;
  out.writeUInt32BE(vlen, off + 23);
  let p = off + 27;
  out.set(key.subarray(ks, ke), p);
  p += klen;
  if (val !== null && vlen > 0) {
    out.set(val.subarray(vs, ve), p);
    p += vlen;
  }
  return p;
}

/** Decodes a REC/SNAP body into `r`; false when the body is malformed. */
export function readRecord(buf: Buffer, f: Frame, r: Record): boolean {
  const o = f.bodyStart;
  if (f.bodyEnd - o < REC_FIXED) return false;
  const klen = buf[o + 17];
  const vlen = buf.readUInt32BE(o + 18);
  if (o + REC_FIXED + klen + vlen !== f.bodyEnd) return false;
  r.op = buf[o];
  if (r.op < RecOp.Set || r.op > RecOp.Flush) return false;
  r.verHi = buf.readUInt32BE(o + 1);
  r.verLo = buf.readUInt32BE(o + 5);
  r.flags = buf.readUInt32BE(o + 9);
  r.exptime = buf.readUInt32BE(o + 13);
  r.buf = buf;
  r.keyStart = o + REC_FIXED;
  r.keyEnd = r.keyStart + klen;
  r.valueStart = r.keyEnd;
  r.valueEnd = r.keyEnd + vlen;
  return true;
}
