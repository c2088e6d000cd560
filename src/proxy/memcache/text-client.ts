/**
 * The memcache driver's client side for the text protocol (classic + meta), turning each parsed
 * request (protocol/memcache/text.ts) into a Plan. What is answered where:
 *   - keyed commands are forwarded to the key's server; `noreply` and meta `q` are stripped
 *     towards the backend (it then always answers, so the reply stream cannot desync) and the
 *     reply is dropped here by the Drop rule in the expect token;
 *   - multi-key get/gets/gat/gats are split per key and merged in key order;
 *   - flush_all and verbosity go to every server (OK when all OK); stats are aggregated;
 *   - version, mn and quit are answered by the proxy, in order with everything else.
 */

import { Cmd, ParseStatus, TextRequest, TextRequestParser } from "../../protocol/memcache/text.js";
import { VERSION } from "../../version.js";
import { type ClientParser, ParseResult, type Plan } from "../driver.js";
import { Drop, Kind } from "./expect.js";
import { TextAllOkMerger, TextGetMerger, TextStatsMerger } from "./mergers.js";

const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from("\r\n");
const MN = Buffer.from("MN\r\n");
export const VERSION_REPLY = Buffer.from(`VERSION 1.6.18-keepcache-${VERSION}\r\n`, "latin1");

function unsupported(what: string): Buffer {
  return Buffer.from(`SERVER_ERROR keepcache: ${what} is not supported through the proxy\r\n`);
}

export class TextClientParser implements ClientParser {
  plan: Plan | undefined;
  errorReply: Buffer | undefined;
  close = false;
  private readonly p: TextRequestParser;
  private readonly req = new TextRequest();
  /**
   * The forward plan, reused for every keyed request (the proxy consumes a plan before asking
   * for the next one, driver.ts): one fixed shape and no allocation on the hot path.
   */
  private readonly fwd: Extract<Plan, { kind: "forward" }> = {
    kind: "forward",
    buf: EMPTY,
    keyStart: 0,
    keyEnd: 0,
    frameStart: 0,
    frameEnd: 0,
    rewrite: undefined,
    expect: 0,
    silent: false,
    idempotent: false,
    readOnly: false,
  };

  constructor(maxRequestBytes: number) {
    this.p = new TextRequestParser({ maxValueBytes: maxRequestBytes, newerMetaFlags: true });
  }

  feed(chunk: Buffer): void {
    this.p.feed(chunk);
  }

  failReply(_tag: number, silent: boolean, message: string): Buffer {
    return silent ? EMPTY : Buffer.from(`SERVER_ERROR ${message}\r\n`, "latin1");
  }

  next(): ParseResult {
    const req = this.req;
    const st = this.p.next(req);
    if (st === ParseStatus.NeedMore) return ParseResult.NeedMore;
    if (st === ParseStatus.Error) {
      this.errorReply = req.error === "" ? EMPTY : Buffer.from(`${req.error}\r\n`, "latin1");
      this.close = req.close;
      return ParseResult.Error;
    }
    this.plan = this.planFor(this.p.buffer, req);
    return ParseResult.Plan;
  }

  private planFor(b: Buffer, r: TextRequest): Plan {
    switch (r.cmd) {
      case Cmd.Get:
      case Cmd.Gets:
      case Cmd.Gat:
      case Cmd.Gats:
        return r.keyCount === 1 ? this.forward(b, r, Kind.Multi, true) : this.splitGet(b, r);
      case Cmd.Set:
      case Cmd.Delete:
      case Cmd.Touch:
        return this.forward(b, r, Kind.Line, true);
      case Cmd.Add:
      case Cmd.Replace:
      case Cmd.Append:
      case Cmd.Prepend:
      case Cmd.Cas:
      case Cmd.Incr:
      case Cmd.Decr:
        return this.forward(b, r, Kind.Line, false);
      case Cmd.Mg:
        return this.meta(b, r, Drop.MetaMiss, true);
      case Cmd.Ms:
        // Only a plain set (mode S, the default) is safe to repeat; append/prepend/add are not.
        return this.meta(b, r, Drop.MetaOk, r.mode === 0 || r.mode === 0x53 || r.mode === 0x73);
      case Cmd.Md:
        return this.meta(b, r, Drop.MetaOk, true);
      case Cmd.Ma:
        return this.meta(b, r, Drop.MetaOk, false);
      case Cmd.Me:
        return this.forward(b, r, Kind.Line, true);
      case Cmd.Mn:
        return { kind: "local", reply: MN };
      case Cmd.FlushAll:
      case Cmd.Verbosity:
        return this.broadcast(b, r, Kind.Line, new TextAllOkMerger(0, r.noreply));
      case Cmd.Stats:
        return this.stats(b, r);
      case Cmd.Version:
        return { kind: "local", reply: VERSION_REPLY };
      case Cmd.Quit:
        return { kind: "local", reply: EMPTY, close: true };
      case Cmd.Shutdown:
        return { kind: "local", reply: unsupported("shutdown") };
      case Cmd.LruCrawler:
        return { kind: "local", reply: unsupported("lru_crawler") };
      default:
        return { kind: "local", reply: Buffer.from("ERROR\r\n") };
    }
  }

  private forward(b: Buffer, r: TextRequest, kind: number, idempotent: boolean): Plan {
    const silent = r.noreply;
    return this.fill(
      b,
      r,
      silent ? stripNoreply(b, r) : undefined,
      silent ? kind | Drop.All : kind,
      silent,
      idempotent,
      kind === Kind.Multi,
    );
  }

  private fill(
    b: Buffer,
    r: TextRequest,
    rewrite: Buffer | undefined,
    expect: number,
    silent: boolean,
    idempotent: boolean,
    readOnly: boolean,
  ): Plan {
    const f = this.fwd;
    f.buf = b;
    f.keyStart = r.keyStart;
    f.keyEnd = r.keyEnd;
    f.frameStart = r.frameStart;
    f.frameEnd = r.frameEnd;
    f.rewrite = rewrite;
    f.expect = expect;
    f.silent = silent;
    f.idempotent = idempotent;
    f.readOnly = readOnly;
    return f;
  }

  private meta(b: Buffer, r: TextRequest, drop: number, idempotent: boolean): Plan {
    let q = -1;
    for (let i = 0; i < r.tokCount; i++)
      if (r.tokEnds[i] - r.tokStarts[i] === 1 && b[r.tokStarts[i]] === 0x71) q = i;
    const silent = q >= 0;
    return this.fill(
      b,
      r,
      silent ? cut(b, r.frameStart, r.tokStarts[q] - 1, r.tokEnds[q], r.frameEnd) : undefined,
      silent ? Kind.Meta | drop : Kind.Meta,
      silent,
      idempotent,
      r.cmd === Cmd.Mg,
    );
  }

  /** One part per key: "<cmd> [<exptime>] <key>\r\n", merged back in key order. */
  private splitGet(b: Buffer, r: TextRequest): Plan {
    const prefix = r.keyStarts[0] - r.cmdStart;
    const parts = [];
    for (let i = 0; i < r.keyCount; i++) {
      const ks = r.keyStarts[i];
      const ke = r.keyEnds[i];
      const req = Buffer.allocUnsafe(prefix + (ke - ks) + 2);
      b.copy(req, 0, r.cmdStart, r.keyStarts[0]);
      b.copy(req, prefix, ks, ke);
      CRLF.copy(req, prefix + ke - ks);
      parts.push({ keyBuf: req, keyStart: prefix, keyEnd: prefix + ke - ks, request: req });
    }
    return {
      kind: "split",
      parts,
      expect: Kind.Multi,
      merge: new TextGetMerger(parts.length),
      silent: false,
    };
  }

  private broadcast(
    b: Buffer,
    r: TextRequest,
    kind: number,
    merge: TextAllOkMerger | TextStatsMerger,
  ): Plan {
    const request = r.noreply
      ? stripNoreply(b, r)
      : Buffer.from(b.subarray(r.frameStart, r.frameEnd));
    return { kind: "broadcast", request, expect: kind, merge, silent: r.noreply };
  }

  private stats(b: Buffer, r: TextRequest): Plan {
    const args = b.toString("latin1", r.argStart, r.argEnd).trim().split(/ +/);
    const sub = args[0] ?? "";
    let kind: number = Kind.Multi;
    if (sub === "reset" || (sub === "detail" && args[1] !== "dump")) kind = Kind.Line;
    else if (sub === "cachedump" || sub === "detail") kind = Kind.Lines;
    return this.broadcast(b, r, kind, new TextStatsMerger(0));
  }
}

/** The frame without its " noreply" token (the last token of the command line). */
function stripNoreply(b: Buffer, r: TextRequest): Buffer {
  let e = r.lineEnd;
  while (e > r.frameStart && b[e - 1] === 0x20) e--;
  const s = e - 7; // "noreply"
  let from = s;
  while (from > r.frameStart && b[from - 1] === 0x20) from--;
  return cut(b, r.frameStart, from, r.lineEnd, r.frameEnd);
}

/** [start, a) + [b2, end) of b as a new buffer. */
function cut(b: Buffer, start: number, a: number, b2: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(a - start + (end - b2));
  b.copy(out, 0, start, a);
  b.copy(out, a - start, b2, end);
  return out;
}
