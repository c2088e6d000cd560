/**
 * Frames one Redis backend connection's replies for the proxy core (driver.ts ReplyFramer),
 * on top of the RESP2/RESP3 framer in protocol/resp/reply.ts.
 *
 * Every Redis request gets exactly one reply, so the `expect` token only describes bundles:
 * requests the driver sends as one contiguous write so that no other client's request can
 * interleave on a shared backend connection (a transaction MULTI ... EXEC, or a RESP3 client's
 * request wrapped as HELLO 3 ... HELLO 2). The token says how many replies come before the one
 * the client sees and how many after it; all are consumed before next() returns, so a backend
 * connection never holds bytes no request in flight asked for (the client's reply is copied
 * only when replies follow it).
 */
import { ParseStatus } from "../../protocol/resp/parser.js";
import { RespReplyFramer, RespType } from "../../protocol/resp/reply.js";
import type { ReplyFramer } from "../driver.js";

const BEFORE_MASK = 0xffff;

/**
 * Bulk replies from this size on may stream through to the client (ReplyFramer.streamable):
 * the proxy then holds a few read buffers of a large value rather than all of it.
 */
export const STREAM_MIN = 256 * 1024;
const AFTER_SHIFT = 16;

/** The expect token for a bundle: `before` replies, the client's reply, then `after` replies. */
export function expectToken(before: number, after: number): number {
  if (before < 0 || before > BEFORE_MASK || after < 0 || after > 0x7fff) {
    throw new RangeError(`bundle too large: ${before} replies before, ${after} after`);
  }
  return before | (after << AFTER_SHIFT);
}

export const expectBefore = (expect: number): number => expect & BEFORE_MASK;
export const expectAfter = (expect: number): number => expect >>> AFTER_SHIFT;

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

  private readonly inner = new RespReplyFramer({ streamMin: STREAM_MIN });

  /** Replies of the current bundle still to skip, before (phase 0) or after (phase 1) its reply. */
  private skip = 0;
  private begun = false;
  /** The client's reply, copied, while the replies after it are still being skipped. */
  private held: Buffer | undefined;
  private heldError = false;
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
      this.skip = expectBefore(expect);
    }
    for (;;) {
      if (this.skip > 0) {
        if (!this.step()) return false;
        this.skip--;
        if (this.serverError()) this.skippedServerError = true;
        if (this.skippedError === undefined && r.type === RespType.Error)
          this.skippedError = Buffer.from(r.buf.subarray(r.frameStart, r.frameEnd));
        continue;
      }
      if (this.held !== undefined) {
        // The replies after the client's one are consumed now, so the connection never holds
        // bytes that no request in flight asked for; the held copy is handed out instead.
        this.buf = this.held;
        this.start = 0;
        this.end = this.held.length;
        this.isError = this.heldError || this.skippedServerError;
        this.held = undefined;
        this.begun = false;
        return true;
      }
      if (!this.step()) return false;
      const after = expectAfter(expect);
      if (after === 0) {
        this.buf = r.buf;
        this.start = r.frameStart;
        this.end = r.frameEnd;
        this.isError = this.skippedServerError || this.serverError();
        this.begun = false;
        return true;
      }
      this.held = Buffer.from(r.buf.subarray(r.frameStart, r.frameEnd));
      this.heldError = this.serverError();
      this.skip = after;
    }
  }

  /**
   * The client's own reply (not one the bundle skips) is in progress and is a large bulk (a
   * GET of a big value): it may go to the client in pieces as it arrives. Its last bytes are
   * then the frame next() returns, held while the bundle's replies after it are skipped.
   */
  get streamable(): boolean {
    return this.begun && this.skip === 0 && this.held === undefined && this.inner.streamable;
  }

  piece(): boolean {
    const inner = this.inner;
    if (!this.streamable || !inner.piece()) return false;
    this.buf = inner.reply.buf;
    this.start = inner.pieceStart;
    this.end = inner.pieceEnd;
    return true;
  }

  /** Frames one reply; false when more bytes are needed or the backend broke the protocol. */
  private step(): boolean {
    const s = this.inner.next();
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
