/**
 * The memcache driver's client side for the binary protocol (protocol-binary.txt). Keyed
 * opcodes are forwarded by key. A quiet opcode is sent as its loud twin, so the backend always
 * answers and replies match requests in order; the framer puts the quiet opcode back and the
 * router drops what the client did not ask to see (a GetQ miss, a SetQ success). Noop, Version
 * and Quit are answered here; Flush and Verbosity go to every server; Stat is aggregated.
 */
import {
  BinaryRequest,
  BinaryRequestParser,
  binaryStatus,
  HEADER_LENGTH,
  Opcode,
  ParseStatus,
  writeBinaryHeader,
} from "../../protocol/memcache/binary.js";
import { VERSION } from "../../version.js";
import { type ClientParser, ParseResult, type Plan } from "../driver.js";
import { Drop, Kind, withOpcode } from "./expect.js";
import { BinaryAllOkMerger, BinaryStatsMerger } from "./mergers.js";

const EMPTY = Buffer.alloc(0);
const VERSION_TEXT = Buffer.from(`1.6.18-keepcache-${VERSION}`, "latin1");

/** Quiet opcode → the loud one sent to the backend. */
const LOUD = new Int16Array(256).fill(-1);
for (const [q, l] of [
  [Opcode.GetQ, Opcode.Get],
  [Opcode.GetKQ, Opcode.GetK],
  [Opcode.SetQ, Opcode.Set],
  [Opcode.AddQ, Opcode.Add],
  [Opcode.ReplaceQ, Opcode.Replace],
  [Opcode.DeleteQ, Opcode.Delete],
  [Opcode.IncrementQ, Opcode.Increment],
  [Opcode.DecrementQ, Opcode.Decrement],
  [Opcode.AppendQ, Opcode.Append],
  [Opcode.PrependQ, Opcode.Prepend],
  [Opcode.GatQ, Opcode.Gat],
  [Opcode.GatKQ, Opcode.GatK],
  [Opcode.FlushQ, Opcode.Flush],
])
  LOUD[q] = l;

/** Safe to send again elsewhere after a failure. */
function idempotent(op: number): boolean {
  switch (op) {
    case Opcode.Get:
    case Opcode.GetQ:
    case Opcode.GetK:
    case Opcode.GetKQ:
    case Opcode.Set:
    case Opcode.SetQ:
    case Opcode.Delete:
    case Opcode.DeleteQ:
    case Opcode.Touch:
    case Opcode.Gat:
    case Opcode.GatQ:
    case Opcode.GatK:
    case Opcode.GatKQ:
      return true;
    default:
      return false;
  }
}

function response(opcode: number, status: number, opaque: number, body: Buffer = EMPTY): Buffer {
  const out = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
  writeBinaryHeader(out, 0, opcode, status, opaque, 0, 0, body.length);
  body.copy(out, HEADER_LENGTH);
  return out;
}

export class BinaryClientParser implements ClientParser {
  plan: Plan | undefined;
  errorReply: Buffer | undefined;
  close = false;
  private readonly p: BinaryRequestParser;
  private readonly req = new BinaryRequest();

  constructor(maxRequestBytes: number) {
    this.p = new BinaryRequestParser({ maxValueBytes: maxRequestBytes });
  }

  feed(chunk: Buffer): void {
    this.p.feed(chunk);
  }

  failReply(tag: number, _silent: boolean, message: string): Buffer {
    // tag = opcode * 2^32 + opaque (see plan()). Errors show even for quiet opcodes.
    const opcode = Math.floor(tag / 2 ** 32);
    return response(
      opcode,
      binaryStatus.InternalError,
      tag % 2 ** 32,
      Buffer.from(message, "latin1"),
    );
  }

  next(): ParseResult {
    const r = this.req;
    const st = this.p.next(r);
    if (st === ParseStatus.NeedMore) return ParseResult.NeedMore;
    if (st === ParseStatus.Error) {
      this.errorReply = r.silent ? EMPTY : response(r.opcode, r.status, r.opaque);
      this.close = r.close;
      return ParseResult.Error;
    }
    this.plan = this.planFor(this.p.buffer, r);
    return ParseResult.Plan;
  }

  private planFor(b: Buffer, r: BinaryRequest): Plan {
    const op = r.opcode;
    const tag = op * 2 ** 32 + r.opaque;
    switch (op) {
      case Opcode.Noop:
        return { kind: "local", reply: response(op, 0, r.opaque) };
      case Opcode.Version:
        return { kind: "local", reply: response(op, 0, r.opaque, VERSION_TEXT) };
      case Opcode.Quit:
        return { kind: "local", reply: response(op, 0, r.opaque), close: true };
      case Opcode.QuitQ:
        return { kind: "local", reply: EMPTY, close: true };
      case Opcode.Flush:
      case Opcode.FlushQ:
      case Opcode.Verbosity: {
        const request = Buffer.from(b.subarray(r.frameStart, r.frameEnd));
        const quiet = op === Opcode.FlushQ;
        if (quiet) request[1] = Opcode.Flush;
        return {
          kind: "broadcast",
          request,
          expect: Kind.Binary,
          merge: new BinaryAllOkMerger(0, op, r.opaque, quiet),
          silent: quiet,
          readOnly: false,
          tag,
        };
      }
      case Opcode.Stat:
        return {
          kind: "broadcast",
          request: Buffer.from(b.subarray(r.frameStart, r.frameEnd)),
          expect: Kind.BinaryStats,
          merge: new BinaryStatsMerger(0, r.opaque),
          silent: false,
          readOnly: true,
          tag,
        };
      default: {
        const loud = LOUD[op];
        const quiet = loud >= 0;
        let rewrite: Buffer | undefined;
        if (quiet) {
          rewrite = Buffer.from(b.subarray(r.frameStart, r.frameEnd));
          rewrite[1] = loud;
        }
        return {
          kind: "forward",
          conn: 0,
          buf: b,
          keyStart: r.keyStart,
          keyEnd: r.keyEnd,
          frameStart: r.frameStart,
          frameEnd: r.frameEnd,
          ...(rewrite ? { rewrite } : {}),
          expect: quiet ? withOpcode(Kind.Binary | Drop.BinaryQuiet, op) : Kind.Binary,
          silent: quiet,
          idempotent: idempotent(op),
          readOnly:
            op === Opcode.Get || op === Opcode.GetQ || op === Opcode.GetK || op === Opcode.GetKQ,
          tag,
        };
      }
    }
  }
}
