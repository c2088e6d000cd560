/**
 * Frames memcached replies (text and binary) for the proxy, one whole reply per request: a
 * multi-get's VALUE blocks and END, or a stats listing, come out as one byte range, so the
 * router can forward it with one copy. Line scanning resumes where it stopped; data blocks are
 * skipped by their announced length, never scanned. Shapes: protocol.txt "Retrieval command",
 * "Statistics", "Meta Commands"; protocol-binary.txt "Response header".
 */
import {
  binaryStatus,
  HEADER_LENGTH,
  MAGIC_RESPONSE,
} from "../../protocol/memcache/binary-const.js";
import { ByteQueue } from "../../protocol/memcache/input.js";
import { findNewline } from "../../protocol/memcache/text.js";
import type { ReplyFramer } from "../driver.js";
import { Drop, KIND_MASK, Kind, RESTORE } from "./expect.js";

const MAX_LINE = 64 * 1024;

function startsWith(b: Buffer, s: number, e: number, lit: string): boolean {
  if (e - s < lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (b[s + i] !== lit.charCodeAt(i)) return false;
  return true;
}

export function isErrorLine(b: Buffer, s: number, e: number): boolean {
  return (
    startsWith(b, s, e, "ERROR") ||
    startsWith(b, s, e, "CLIENT_ERROR") ||
    startsWith(b, s, e, "SERVER_ERROR")
  );
}

/** Decimal at [s, e) up to the next space, or -1. */
function sizeAt(b: Buffer, s: number, e: number): number {
  let n = 0;
  let i = s;
  for (; i < e && b[i] !== 0x20; i++) {
    const c = b[i] - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return i === s || n > 0x7fffffff ? -1 : n;
}

/** Start of the token after `n` spaces from s, or -1. */
function tokenAfter(b: Buffer, s: number, e: number, n: number): number {
  let i = s;
  while (n > 0 && i < e) {
    if (b[i] === 0x20) {
      while (i < e && b[i] === 0x20) i++;
      n--;
    } else i++;
  }
  return n === 0 && i < e ? i : -1;
}

export class MemcacheFramer implements ReplyFramer {
  buf: Buffer = Buffer.alloc(0);
  start = 0;
  end = 0;
  isError = false;
  droppable = false;
  broken = false;
  private readonly q = new ByteQueue();
  /** Next line of the reply in progress (absolute), -1 when none is in progress. */
  private pos = -1;
  /** Where the "\n" search resumes. */
  private scan = 0;
  /** End (absolute) of a data block being waited for, 0 when none. */
  private dataEnd = 0;

  feed(chunk: Buffer): void {
    if (this.broken) return;
    const moved = this.q.feed(chunk);
    if (moved !== 0) {
      if (this.pos >= 0) this.pos -= moved;
      this.scan -= moved;
      if (this.dataEnd > 0) this.dataEnd -= moved;
    }
  }

  next(expect: number): boolean {
    if (this.broken) return false;
    const kind = expect & KIND_MASK;
    return kind === Kind.Binary || kind === Kind.BinaryStats
      ? this.nextBinary(expect, kind)
      : this.nextText(expect, kind);
  }

  private nextText(expect: number, kind: number): boolean {
    const q = this.q;
    const b = q.buf;
    if (this.pos < 0) {
      this.pos = q.start;
      this.scan = q.start;
    }
    for (;;) {
      if (this.dataEnd > 0) {
        if (q.end < this.dataEnd) return false;
        if (b[this.dataEnd - 2] !== 13 || b[this.dataEnd - 1] !== 10) return this.fail();
        this.pos = this.scan = this.dataEnd;
        this.dataEnd = 0;
        if (kind === Kind.Meta) return this.done(q.start, this.pos, false, expect, b, q.start);
      }
      const p = this.pos;
      const nl = findNewline(b, this.scan, q.end);
      if (nl < 0) {
        this.scan = q.end;
        if (q.end - p > MAX_LINE) return this.fail();
        return false;
      }
      const le = nl > p && b[nl - 1] === 13 ? nl - 1 : nl;
      this.pos = this.scan = nl + 1;
      if (kind === Kind.Multi) {
        if (startsWith(b, p, le, "VALUE ")) {
          // VALUE <key> <flags> <bytes> [<cas unique>]
          const t = tokenAfter(b, p, le, 3);
          const n = t < 0 ? -1 : sizeAt(b, t, le);
          if (n < 0) return this.fail();
          this.dataEnd = nl + 1 + n + 2;
          continue;
        }
        if (startsWith(b, p, le, "STAT ")) continue;
      } else if (kind === Kind.Meta) {
        if (startsWith(b, p, le, "VA ")) {
          const n = sizeAt(b, p + 3, le);
          if (n < 0) return this.fail();
          this.dataEnd = nl + 1 + n + 2;
          continue;
        }
      } else if (kind === Kind.Dump) {
        if (startsWith(b, p, le, "key=")) continue;
      } else if (kind === Kind.Lines) {
        if (!(le - p === 3 && startsWith(b, p, le, "END")) && !isErrorLine(b, p, le)) continue;
      }
      return this.done(q.start, nl + 1, isErrorLine(b, p, le), expect, b, p);
    }
  }

  private done(
    start: number,
    end: number,
    isError: boolean,
    expect: number,
    b: Buffer,
    line: number,
  ): boolean {
    this.buf = b;
    this.start = start;
    this.end = end;
    this.isError = isError;
    let drop = false;
    if (expect & Drop.All) drop = true;
    else if (expect & Drop.MetaMiss)
      drop = startsWith(b, line, end, "EN\r") || startsWith(b, line, end, "EN\n");
    else if (expect & Drop.MetaOk)
      drop =
        startsWith(b, line, end, "VA ") ||
        startsWith(b, line, end, "HD\r") ||
        startsWith(b, line, end, "HD\n") ||
        startsWith(b, line, end, "HD ");
    this.droppable = drop;
    this.q.consume(end);
    this.pos = -1;
    return true;
  }

  private nextBinary(expect: number, kind: number): boolean {
    const q = this.q;
    const b = q.buf;
    let p = this.pos < 0 ? q.start : this.pos;
    for (;;) {
      if (q.end - p < HEADER_LENGTH) {
        this.pos = p;
        return false;
      }
      if (b[p] !== MAGIC_RESPONSE) return this.fail();
      const body = b.readUInt32BE(p + 8);
      if (q.end - p < HEADER_LENGTH + body) {
        this.pos = p;
        return false;
      }
      const status = b.readUInt16BE(p + 6);
      const keyLen = b.readUInt16BE(p + 2);
      const next = p + HEADER_LENGTH + body;
      if (kind === Kind.BinaryStats && status === 0 && !(keyLen === 0 && body === 0)) {
        p = next;
        continue;
      }
      this.buf = b;
      this.start = q.start;
      this.end = next;
      this.isError = status !== 0 && status !== binaryStatus.KeyNotFound;
      if (expect & RESTORE) b[p + 1] = (expect >> 8) & 0xff;
      let drop = false;
      if (expect & Drop.BinaryQuiet) {
        const op = (expect >> 8) & 0xff;
        const getLike = op === 0x09 || op === 0x0d || op === 0x1e || op === 0x24;
        drop = getLike ? status === binaryStatus.KeyNotFound : status === 0;
      }
      this.droppable = drop;
      q.consume(next);
      this.pos = -1;
      return true;
    }
  }

  private fail(): boolean {
    this.broken = true;
    this.q.consume(this.q.end);
    return false;
  }
}
