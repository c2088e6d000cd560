/**
 * Frames one Redis backend connection's replies for the proxy core (driver.ts ReplyFramer),
 * on top of the RESP2/RESP3 framer in protocol/resp/reply.ts.
 *
 * Every Redis request gets exactly one reply, so the `expect` token only describes bundles:
 * requests the driver sends as one contiguous write so that no other client's request can
 * interleave on a shared backend connection (a transaction MULTI ... EXEC, WAIT after its
 * PUBLISH, ASKING before a redirected request). The token is the number of replies that come
 * before the one the client sees; they are consumed and dropped.
 *
 * A RESP3 push (`>`, protocol-spec.md "Push type") is out-of-band data, never a reply
 * (pub/sub messages, client-side caching invalidations). Only streams (subscriber mode, CLIENT
 * TRACKING) get them, and those run on dedicated connections; a push on a shared connection
 * (one the server found by id, CLIENT TRACKING REDIRECT) would be taken for the next request's
 * reply and misalign every reply after it, so a shared connection's framer skips and counts it.
 */
import { ParseStatus } from "../../protocol/resp/parser.js";
import { RespReplyFramer, RespType } from "../../protocol/resp/reply.js";
import type { ReplyFramer } from "../driver.js";

/**
 * Bulk replies from this size on may stream through to the client (ReplyFramer.streamable),
 * and aggregate replies once this much of them arrived: the proxy then holds a few read
 * buffers of a large reply rather than all of it.
 */
export const STREAM_MIN = 256 * 1024;

/** The expect token for a bundle: `before` replies to skip, then the client's reply. */
export function expectToken(before: number): number {
  if (!Number.isInteger(before) || before < 0 || before > 0x7fffffff) {
    throw new RangeError(`bundle too large: ${before} replies before the client's`);
  }
  return before;
}

/**
 * Error prefixes that say the server cannot serve right now (a role change or a server-side
 * condition), as opposed to an error about the request itself (WRONGTYPE, syntax): READONLY,
 * MASTERDOWN, LOADING and NOREPLICAS signal a role change (sentinel-clients.md; server.c
 * shared.roslaveerr, masterdownerr, loadingerr, noreplicaserr), MISCONF a failed BGSAVE that
 * stops writes, BUSY a long script, NOAUTH/WRONGPASS a wrong redis_auth. Only these set
 * isError, so the core's passive failure counting never ejects a server because of a client's
 * mistake.
 */
const SERVER_ERRORS = [
  "READONLY",
  "MASTERDOWN",
  "LOADING",
  "NOREPLICAS",
  "MISCONF",
  "BUSY",
  "NOAUTH",
  "WRONGPASS",
].map((w) => Buffer.from(w, "latin1"));

/** True when buf[start, end) (after the '-' or the '!<len>\r\n' line) starts with a server-error word. */
export function isServerErrorText(buf: Buffer, start: number, end: number): boolean {
  for (const w of SERVER_ERRORS) {
    const e = start + w.length;
    if (e > end || buf.compare(w, 0, w.length, start, e) !== 0) continue;
    // The code is a whole word: followed by a space or the end of the line.
    if (e === end || buf[e] === 0x20 || buf[e] === 0x0d) return true;
  }
  return false;
}

export class RedisReplyFramer implements ReplyFramer {
  buf: Buffer = Buffer.alloc(0);
  start = 0;
  end = 0;
  isError = false;
  /** Redis has no silent requests: every reply goes to the client. */
  droppable = false;
  broken = false;
  /** Why the framer broke (for the core's log line). */
  error = "";

  /** Pushes skipped on a shared connection since the core last read this (driver.ts). */
  skipped = 0;

  private readonly inner = new RespReplyFramer({ streamMin: STREAM_MIN });

  /** `shared`: a shared pipelined connection, whose pushes are skipped (see above). */
  constructor(private readonly shared = false) {}

  /** Replies of the current bundle still to skip before the client's one. */
  private skip = 0;
  private begun = false;
  /** A skipped reply of the current bundle was a server error. */
  private skippedServerError = false;
  /** The first error reply the current bundle skipped, copied (driver.ts ReplyFramer). */
  skippedError: Buffer | undefined = undefined;

  feed(chunk: Buffer): void {
    this.inner.feed(chunk);
  }

  next(expect: number): boolean {
    if (this.broken) return false;
    const r = this.inner.reply;
    if (!this.begun) {
      this.begun = true;
      this.skippedServerError = false;
      this.skippedError = undefined;
      this.skip = expect;
    }
    while (this.skip > 0) {
      if (!this.step()) return false;
      this.skip--;
      if (this.serverError()) this.skippedServerError = true;
      if (this.skippedError === undefined && r.type === RespType.Error)
        this.skippedError = Buffer.from(r.buf.subarray(r.frameStart, r.frameEnd));
    }
    if (!this.step()) return false;
    this.buf = r.buf;
    this.start = r.frameStart;
    this.end = r.frameEnd;
    this.isError = this.skippedServerError || this.serverError();
    this.begun = false;
    return true;
  }

  /**
   * The client's own reply (not one the bundle skips) is in progress and is a large bulk (a
   * GET of a big value) or an array, set or map holding one (LRANGE, HGETALL, EXEC, MGET on a
   * single-server pool) or STREAM_MIN bytes of small elements (LRANGE k 0 -1 of a long list,
   * KEYS): it may go to the client in pieces as it arrives. Its last bytes are
   * then the frame next() returns; an aggregate is never an error, so isError is false.
   */
  get streamable(): boolean {
    return this.begun && this.skip === 0 && this.inner.streamable;
  }

  piece(): boolean {
    const inner = this.inner;
    if (!this.streamable || !inner.piece()) return false;
    this.buf = inner.reply.buf;
    this.start = inner.pieceStart;
    this.end = inner.pieceEnd;
    return true;
  }

  /**
   * No request is in flight: on a shared connection, whole pushes among the bytes waiting are
   * skipped and counted, and one still arriving is waited for. False when anything else is
   * there (a reply nobody asked for: the connection is out of step).
   */
  skipUnsolicited(): boolean {
    const inner = this.inner;
    for (;;) {
      const t = inner.nextType;
      if (t < 0) return true;
      // An attribute may precede the push it describes (protocol-spec.md "Attribute type").
      if (!this.shared || (t !== RespType.Push && t !== RespType.Attribute)) return false;
      const s = inner.next();
      if (s === ParseStatus.NeedMore) return true;
      if (s === ParseStatus.Error) {
        this.broken = true;
        this.error = inner.error;
        return false;
      }
      if (inner.reply.type !== RespType.Push) return false;
      this.skipped++;
    }
  }

  /** Frames one reply; false when more bytes are needed or the backend broke the protocol. */
  private step(): boolean {
    let s = this.inner.next();
    while (s === ParseStatus.Ok && this.shared && this.inner.reply.type === RespType.Push) {
      this.skipped++;
      s = this.inner.next();
    }
    if (s === ParseStatus.Ok) return true;
    if (s === ParseStatus.Error) {
      this.broken = true;
      this.error = this.inner.error;
    }
    return false;
  }

  private serverError(): boolean {
    const r = this.inner.reply;
    // Located from the frame's end: reply.bodyStart is not moved when a feed compacts the
    // buffer mid-frame, while frameStart/frameEnd always are.
    if (r.type === RespType.Error) {
      const line = r.buf.lastIndexOf(0x0a, r.frameEnd - 3) + 1;
      const start = Math.max(line, r.frameStart);
      return isServerErrorText(r.buf, start + 1, r.frameEnd);
    }
    if (r.type === RespType.BlobError) {
      return isServerErrorText(r.buf, r.frameEnd - 2 - r.count, r.frameEnd);
    }
    return false;
  }
}
