/**
 * Mergers for the memcache driver's split and broadcast plans (driver.ts Merger): each collects
 * its parts' replies and writes the client's single reply in the client's protocol.
 */
import { writeBinaryHeader } from "../../protocol/memcache/binary-const.js";
import type { OutBuffer } from "../../util/out-buffer.js";
import type { Merger } from "../driver.js";
import { aggregateStats, parseBinaryStats, parseTextStats } from "./stats-merge.js";

const END = Buffer.from("END\r\n");

/** A failed part becomes this reply (the whole request fails, like twemproxy's fragments). */
function serverError(message: string): Buffer {
  return Buffer.from(`SERVER_ERROR ${message}\r\n`, "latin1");
}

abstract class Parts implements Merger {
  protected readonly replies: (Buffer | undefined)[];
  protected error: Buffer | undefined;
  constructor(n: number) {
    this.replies = new Array(n);
  }
  add(index: number, reply: Buffer): void {
    this.replies[index] = reply;
  }
  fail(_index: number, reason: string): void {
    this.error ??= serverError(reason);
  }
  abstract write(out: OutBuffer): void;
}

function isOk(r: Buffer): boolean {
  return r.length === 4 && r[0] === 0x4f && r[1] === 0x4b && r[2] === 13 && r[3] === 10;
}

/**
 * flush_all / verbosity / lru_crawler enable|disable|sleep|tocrawl|crawl: OK when every server
 * said OK, else the first other reply (an error, or lru_crawler's BUSY / BADCLASS /
 * NOTSTARTED); nothing if silent.
 */
export class TextAllOkMerger extends Parts {
  constructor(
    n: number,
    private readonly silent: boolean,
  ) {
    super(n);
  }
  write(out: OutBuffer): void {
    if (this.silent) return;
    let reply = this.error;
    if (reply === undefined)
      for (const r of this.replies)
        if (r !== undefined && !isOk(r)) {
          reply = r;
          break;
        }
    reply ??= this.replies.find((r) => r !== undefined) ?? serverError("keepcache: no reply");
    out.bytes(reply, 0, reply.length);
  }
}

/**
 * `lru_crawler metadump`: every server's "key=..." lines, one server after the other, then one
 * END (protocol.txt "lru_crawler metadump"). A server that did not dump (BUSY, BADCLASS, an
 * error line, a failure) makes its reply the answer, the first such in server order.
 */
export class TextDumpMerger extends Parts {
  write(out: OutBuffer): void {
    let bad = this.error;
    for (const r of this.replies) if (bad === undefined && r !== undefined && !endsDump(r)) bad = r;
    if (bad !== undefined) {
      out.bytes(bad, 0, bad.length);
      return;
    }
    for (const r of this.replies) if (r !== undefined) out.bytes(r, 0, r.length - END.length);
    out.bytes(END, 0, END.length);
  }
}

/** The reply's last line is END (the framer ends a dump at its first line not "key="). */
function endsDump(r: Buffer): boolean {
  const n = r.length;
  return (
    n >= 5 &&
    (n === 5 || r[n - 6] === 10) &&
    r[n - 5] === 0x45 &&
    r[n - 4] === 0x4e &&
    r[n - 3] === 0x44 &&
    r[n - 2] === 13 &&
    r[n - 1] === 10
  );
}

/** `stats [group]`: STAT lines aggregated over every server; single-line replies as AllOk. */
export class TextStatsMerger extends Parts {
  write(out: OutBuffer): void {
    if (this.error !== undefined) {
      out.bytes(this.error, 0, this.error.length);
      return;
    }
    const first = this.replies.find((r) => r !== undefined);
    if (first === undefined || !first.toString("latin1", 0, 5).startsWith("STAT ")) {
      // RESET, OK, an error, or a listing that is not STAT lines: the first server's reply.
      const r = first ?? END;
      out.bytes(r, 0, r.length);
      return;
    }
    const lists = this.replies.filter((r) => r !== undefined).map(parseTextStats);
    for (const [k, v] of aggregateStats(lists)) out.ascii(`STAT ${k} ${v}\r\n`);
    out.bytes(END, 0, END.length);
  }
}

/** Binary Flush / Verbosity: the first reply when all succeeded, else the first failing one. */
export class BinaryAllOkMerger extends Parts {
  constructor(
    n: number,
    private readonly opcode: number,
    private readonly opaque: number,
    private readonly silent: boolean,
  ) {
    super(n);
  }
  write(out: OutBuffer): void {
    let bad: Buffer | undefined;
    for (const r of this.replies) if (r !== undefined && r.readUInt16BE(6) !== 0) bad ??= r;
    if (bad === undefined && this.error !== undefined) {
      writeBinaryError(out, this.opcode, this.opaque, this.error.toString("latin1").trim());
      return;
    }
    if (bad === undefined && this.silent) return;
    const r = bad ?? this.replies.find((x) => x !== undefined);
    if (r === undefined) return;
    out.bytes(r, 0, r.length);
    out.buf[out.pos - r.length + 1] = this.opcode;
  }
}

/** Binary Stat: aggregated packets, then the empty terminator packet. */
export class BinaryStatsMerger extends Parts {
  constructor(
    n: number,
    private readonly opaque: number,
  ) {
    super(n);
  }
  write(out: OutBuffer): void {
    if (this.error !== undefined) {
      writeBinaryError(out, 0x10, this.opaque, this.error.toString("latin1").trim());
      return;
    }
    const lists = this.replies.filter((r) => r !== undefined).map(parseBinaryStats);
    for (const [k, v] of aggregateStats(lists)) {
      const kb = Buffer.from(k, "latin1");
      const vb = Buffer.from(v, "latin1");
      out.ensure(24 + kb.length + vb.length);
      out.pos = writeBinaryHeader(
        out.buf,
        out.pos,
        0x10,
        0,
        this.opaque,
        kb.length,
        0,
        kb.length + vb.length,
      );
      out.bytes(kb, 0, kb.length);
      out.bytes(vb, 0, vb.length);
    }
    out.ensure(24);
    out.pos = writeBinaryHeader(out.buf, out.pos, 0x10, 0, this.opaque);
  }
}

/** A binary error response (status Internal error) whose body is the message. */
export function writeBinaryError(
  out: OutBuffer,
  opcode: number,
  opaque: number,
  msg: string,
): void {
  const body = Buffer.from(msg, "latin1");
  out.ensure(24 + body.length);
  out.pos = writeBinaryHeader(out.buf, out.pos, opcode, 0x84, opaque, 0, 0, body.length);
  out.bytes(body, 0, body.length);
}
