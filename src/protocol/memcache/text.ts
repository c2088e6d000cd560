/**
 * Resumable request parser for the memcached text protocol (protocol.txt), classic and meta
 * commands. Pure: it is fed Buffers and fills a reused TextRequest with byte offsets. A line is
 * scanned for "\n" once (the scan resumes where it stopped); a data block is waited for by
 * length, never rescanned. Errors carry the exact reply memcached 1.6.18 gives.
 */

import assert from "node:assert";
import { findByte } from "../../util/find-byte.js";
import { ByteQueue, ParseStatus } from "./input.js";
import {
  parseArgs,
  parseArith,
  parseDelete,
  parseFlushAll,
  parseRetrieval,
  parseStorage,
  parseTouch,
  parseVerbosity,
} from "./text-classic.js";
import { parseMeta } from "./text-meta.js";
import { Cmd, type TextRequest } from "./text-request.js";
import { BAD_CHUNK, ERR, LINE_TOO_LONG, Next, Tokens } from "./tokens.js";

export { ParseStatus } from "./input.js";
export { Cmd, MetaFlag, TextRequest } from "./text-request.js";

export interface TextParserOptions {
  /** Longest command line (memcached: 2048 bytes, get/gets excepted). */
  maxLineLength?: number;
  /** Longest get/gets line (memcached grows its buffer without limit; we cap it). */
  maxGetLineLength?: number;
  /** Larger values are swallowed and answered "SERVER_ERROR object too large for cache". */
  maxValueBytes?: number;
  /** Accept meta flags newer than 1.6.18 (E explicit cas, x for md). */
  newerMetaFlags?: boolean;
}

/** Name → command, looked up by length and first byte before comparing bytes. */
const NAMES: [string, Cmd][] = [
  ["get", Cmd.Get],
  ["gets", Cmd.Gets],
  ["gat", Cmd.Gat],
  ["gats", Cmd.Gats],
  ["touch", Cmd.Touch],
  ["set", Cmd.Set],
  ["add", Cmd.Add],
  ["replace", Cmd.Replace],
  ["append", Cmd.Append],
  ["prepend", Cmd.Prepend],
  ["cas", Cmd.Cas],
  ["delete", Cmd.Delete],
  ["incr", Cmd.Incr],
  ["decr", Cmd.Decr],
  ["flush_all", Cmd.FlushAll],
  ["version", Cmd.Version],
  ["verbosity", Cmd.Verbosity],
  ["stats", Cmd.Stats],
  ["quit", Cmd.Quit],
  ["shutdown", Cmd.Shutdown],
  ["lru_crawler", Cmd.LruCrawler],
  ["mg", Cmd.Mg],
  ["ms", Cmd.Ms],
  ["md", Cmd.Md],
  ["ma", Cmd.Ma],
  ["mn", Cmd.Mn],
  ["me", Cmd.Me],
];
interface Name {
  name: Uint8Array;
  cmd: Cmd;
}
/** Index: length * 256 + first byte → candidate names (a dense array: no hashing per line). */
const LONGEST = 11;
const TABLE: (Name[] | undefined)[] = new Array((LONGEST + 1) * 256).fill(undefined);
for (const [name, cmd] of NAMES) {
  assert(name.length <= LONGEST);
  const k = name.length * 256 + name.charCodeAt(0);
  const list = TABLE[k] ?? [];
  list.push({ name: Buffer.from(name, "latin1"), cmd });
  TABLE[k] = list;
}

function lookup(b: Buffer, s: number, e: number): Cmd {
  const len = e - s;
  if (len > LONGEST) return Cmd.Unknown;
  const list = TABLE[len * 256 + b[s]];
  if (list === undefined) return Cmd.Unknown;
  outer: for (let j = 0; j < list.length; j++) {
    const name = list[j].name;
    for (let i = 1; i < len; i++) if (b[s + i] !== name[i]) continue outer;
    return list[j].cmd;
  }
  return Cmd.Unknown;
}

/** The first "\n" in b[from, end), or -1 (util/find-byte.ts: no C++ call for short lines). */
export function findNewline(b: Buffer, from: number, end: number): number {
  return findByte(b, 10, from, end);
}

/** memcached lets a line past 2048 bytes grow only if it starts "get " or "gets ". */
function isGetPrefix(b: Buffer, s: number, end: number): boolean {
  let i = s;
  while (i < end && b[i] === 0x20) i++;
  if (i - s > 100 || end - i < 5) return false;
  if (b[i] !== 0x67 || b[i + 1] !== 0x65 || b[i + 2] !== 0x74) return false;
  return b[i + 3] === 0x20 || (b[i + 3] === 0x73 && b[i + 4] === 0x20);
}

export class TextRequestParser {
  private readonly q = new ByteQueue();
  private readonly t = new Tokens();
  private readonly maxLine: number;
  private readonly maxGetLine: number;
  private readonly maxValue: number;
  private readonly newer: boolean;
  /** Absolute position where the search for "\n" resumes. */
  private scan = 0;
  /** Bytes still to skip after an oversized or rejected value. */
  private swallow = 0;
  /** A storage request whose line is parsed and whose data block has not fully arrived. */
  private pending: TextRequest | null = null;
  /** After a fatal error nothing more is parsed. */
  private closed = false;

  constructor(opts: TextParserOptions = {}) {
    this.maxLine = opts.maxLineLength ?? 2048;
    this.maxGetLine = opts.maxGetLineLength ?? 1 << 20;
    this.maxValue = opts.maxValueBytes ?? 1 << 20;
    this.newer = opts.newerMetaFlags ?? false;
  }

  /** The buffer request offsets point into; valid until the next feed(). */
  get buffer(): Buffer {
    return this.q.buf;
  }

  /** Unconsumed bytes held (for back-pressure and tests). */
  get buffered(): number {
    return this.q.length;
  }

  feed(chunk: Buffer): void {
    if (this.closed) return;
    this.moved(this.q.feed(chunk));
  }

  /** Copies unconsumed input out of the last chunk fed, so its memory may be reused (ByteQueue.retain). */
  retain(): void {
    this.moved(this.q.retain());
  }

  private moved(d: number): void {
    if (d !== 0) {
      this.scan -= d;
      this.pending?.shift(d);
      if (this.t.partial) this.t.shift(d);
    }
  }

  /**
   * Parses the next request into `req`. While it returns NeedMore with a data block pending,
   * call it again with the same `req`.
   */
  next(req: TextRequest): ParseStatus {
    const q = this.q;
    if (this.closed) return ParseStatus.NeedMore;
    if (this.swallow > 0) {
      const n = Math.min(this.swallow, q.length);
      q.consume(q.start + n);
      this.swallow -= n;
      this.scan = q.start;
      if (this.swallow > 0) return ParseStatus.NeedMore;
    }
    if (this.pending !== null) {
      assert(req === this.pending, "next() must get the same request while a value is pending");
      return this.finishData(req);
    }
    const b = q.buf;
    const start = q.start;
    if (this.scan < start) this.scan = start;
    const nl = findNewline(b, this.scan, q.end);
    const lineLen = (nl < 0 ? q.end : nl) - start;
    if (lineLen > this.maxLine && (lineLen > this.maxGetLine || !isGetPrefix(b, start, q.end))) {
      // memcached 1.6.18 closes such a connection without a reply; we say why first.
      req.reset();
      req.frameStart = start;
      req.frameEnd = q.end;
      req.error = LINE_TOO_LONG;
      req.close = true;
      this.closed = true;
      this.t.reset();
      q.consume(q.end);
      return ParseStatus.Error;
    }
    if (nl < 0) {
      this.scan = q.end;
      // A get line past the command line limit (the only kind allowed to grow, up to
      // maxGetLine) is split as it arrives: one pass over each read's bytes.
      if (lineLen > this.maxLine) this.t.more(b, start, q.end, false);
      return ParseStatus.NeedMore;
    }
    req.reset();
    req.frameStart = start;
    // Strip "\r" only when the line has two or more bytes before "\n" (try_read_command_ascii).
    const lineEnd = nl - start > 1 && b[nl - 1] === 13 ? nl - 1 : nl;
    req.frameEnd = nl + 1;
    const t = this.t;
    req.lineEnd = t.partial ? t.more(b, start, lineEnd, true) : t.split(b, start, lineEnd);
    let r: Next;
    if (t.n === 0) {
      req.cmdStart = req.cmdEnd = start;
      req.error = ERR;
      r = Next.Fail;
    } else {
      req.cmdStart = t.s[0];
      req.cmdEnd = t.e[0];
      r = this.dispatch(b, req, lookup(b, t.s[0], t.e[0]));
    }
    this.scan = nl + 1;
    switch (r) {
      case Next.Done:
        q.consume(nl + 1);
        return ParseStatus.Ok;
      case Next.Fail:
        q.consume(nl + 1);
        return ParseStatus.Error;
      case Next.Swallow:
        q.consume(nl + 1);
        this.swallow = req.bytes + 2;
        return ParseStatus.Error;
      default:
        req.dataStart = nl + 1;
        req.dataEnd = nl + 1 + req.bytes;
        req.frameEnd = req.dataEnd + 2;
        this.pending = req;
        return this.finishData(req);
    }
  }

  private dispatch(b: Buffer, req: TextRequest, cmd: Cmd): Next {
    const t = this.t;
    req.cmd = cmd;
    switch (cmd) {
      case Cmd.Get:
      case Cmd.Gets:
      case Cmd.Gat:
      case Cmd.Gats:
        return parseRetrieval(b, t, req, cmd);
      case Cmd.Set:
      case Cmd.Add:
      case Cmd.Replace:
      case Cmd.Append:
      case Cmd.Prepend:
      case Cmd.Cas:
        return parseStorage(b, t, req, cmd, this.maxValue);
      case Cmd.Delete:
        return parseDelete(b, t, req);
      case Cmd.Incr:
      case Cmd.Decr:
        return parseArith(b, t, req);
      case Cmd.Touch:
        return parseTouch(b, t, req);
      case Cmd.FlushAll:
        return parseFlushAll(b, t, req);
      case Cmd.Verbosity:
        return parseVerbosity(b, t, req);
      case Cmd.Mg:
      case Cmd.Ms:
      case Cmd.Md:
      case Cmd.Ma:
      case Cmd.Mn:
      case Cmd.Me:
        return parseMeta(b, t, req, cmd, this.maxValue, this.newer);
      case Cmd.Unknown:
        req.error = ERR;
        return Next.Fail;
      default:
        // version, quit, stats, shutdown, lru_crawler: arguments are the caller's business.
        return parseArgs(t, req, req.lineEnd);
    }
  }

  /** Waits for the data block of `req`, then checks its "\r\n" terminator. */
  private finishData(req: TextRequest): ParseStatus {
    const q = this.q;
    if (q.end < req.frameEnd) {
      this.scan = q.end;
      return ParseStatus.NeedMore;
    }
    this.pending = null;
    q.consume(req.frameEnd);
    this.scan = req.frameEnd;
    const b = q.buf;
    if (b[req.dataEnd] === 13 && b[req.dataEnd + 1] === 10) return ParseStatus.Ok;
    // complete_nread_ascii: the bytes + 2 are consumed either way; ms replies even with q.
    req.error = req.noreply && req.cmd !== Cmd.Ms ? "" : BAD_CHUNK;
    return ParseStatus.Error;
  }
}
