/**
 * The memcache driver's client side for the text protocol (classic + meta), turning each parsed
 * request (protocol/memcache/text.ts) into a Plan. What is answered where:
 *   - keyed commands are forwarded to the key's server; `noreply` and meta `q` are stripped
 *     towards the backend (it then always answers, so the reply stream cannot desync) and the
 *     reply is dropped here by the Drop rule in the expect token;
 *   - meta commands with a base64 key (flag b) are routed by the decoded key, as memcached
 *     stores it (b64.ts);
 *   - multi-key get/gets/gat/gats go out as one fragment per server and are merged back in
 *     key order (multiget.ts);
 *   - flush_all, verbosity and lru_crawler go to every server (OK when all OK; metadumps are
 *     concatenated); stats are aggregated;
 *   - version, mn and quit are answered by the proxy, in order with everything else; shutdown
 *     is refused.
 */

import { Cmd, ParseStatus, TextRequest, TextRequestParser } from "../../protocol/memcache/text.js";
import { MetaFlag } from "../../protocol/memcache/text-request.js";
import { VERSION } from "../../version.js";
import {
  type ClientParser,
  type ClientState,
  type ForwardPlan,
  newForwardPlan,
  ParseResult,
  type Plan,
} from "../driver.js";
import { decodeBase64Into, MAX_DECODED_KEY } from "./b64.js";
import { Drop, Kind } from "./expect.js";
import { TextAllOkMerger, TextDumpMerger, TextStatsMerger } from "./mergers.js";
import { BATCH_KEYS, LargeGet, planMultiGet } from "./multiget.js";

const EMPTY = Buffer.alloc(0);
const MN = Buffer.from("MN\r\n");
export const VERSION_REPLY = Buffer.from(`VERSION 1.6.18-keepcache-${VERSION}\r\n`, "latin1");

/**
 * memcached's own refusal is "ERROR: shutdown not enabled" (without -A); through a proxy the
 * command would stop every backend of the pool, so it is never forwarded, and says why.
 */
export const SHUTDOWN_REPLY = Buffer.from(
  "ERROR: shutdown not enabled through the proxy (it would stop every server of the pool)\r\n",
);
const ERROR = Buffer.from("ERROR\r\n");
/**
 * Backend connection class of `lru_crawler metadump`: memcached 1.6.18 refuses a metadump with
 * "ERROR cannot pipeline other commands before metadump" while earlier replies are pending on
 * the connection (proto_text.c, resp_has_stack), which shared proxy connections usually have.
 * Channels 0 and 1 are text and binary clients (index.ts).
 */
export const DUMP_CHANNEL = 2;
/** lru_crawler subcommands with a one-line reply (protocol.txt "LRU_Crawler"). */
const CRAWLER_LINE = new Set(["crawl", "tocrawl", "sleep", "enable", "disable"]);

export class TextClientParser implements ClientParser {
  plan: Plan | undefined;
  errorReply: Buffer | undefined;
  close = false;
  /** Backend connection class for the plan just returned (DUMP_CHANNEL for metadumps). */
  channel = 0;
  /** The plan just returned is a batch of a large retrieval whose next batch follows. */
  more = false;
  /** The large retrieval being planned batch by batch (multiget.ts LargeGet). */
  private large: LargeGet | undefined = undefined;
  private readonly p: TextRequestParser;
  /** The decoded key of a meta request with flag b (the plan's hashKey, read before next()). */
  private readonly keyScratch = Buffer.alloc(MAX_DECODED_KEY);
  private readonly req = new TextRequest();
  /**
   * The forward plan, reused for every keyed request (the proxy consumes a plan before asking
   * for the next one, driver.ts): one fixed shape and no allocation on the hot path.
   */
  private readonly fwd = newForwardPlan();

  /** The pool's key → server mapping (ClientState.shardOf), as multiget.ts takes it. */
  private readonly shardOf: (buf: Buffer, start: number, end: number) => number;

  constructor(
    maxRequestBytes: number,
    private readonly state?: ClientState,
  ) {
    this.shardOf = (buf, start, end) => (state as ClientState).shardOf(buf, start, end);
    this.p = new TextRequestParser({ maxValueBytes: maxRequestBytes, newerMetaFlags: true });
  }

  feed(chunk: Buffer): void {
    this.p.feed(chunk);
  }

  failReply(_tag: number, silent: boolean, message: string): Buffer {
    return silent ? EMPTY : Buffer.from(`SERVER_ERROR ${message}\r\n`, "latin1");
  }

  next(): ParseResult {
    const large = this.large;
    if (large !== undefined) {
      this.channel = 0;
      this.plan = this.batch(large);
      return ParseResult.Plan;
    }
    const req = this.req;
    const st = this.p.next(req);
    if (st === ParseStatus.NeedMore) return ParseResult.NeedMore;
    if (st === ParseStatus.Error) {
      this.errorReply = req.error === "" ? EMPTY : Buffer.from(`${req.error}\r\n`, "latin1");
      this.close = req.close;
      return ParseResult.Error;
    }
    this.channel = 0;
    this.plan = this.planFor(this.p.buffer, req);
    return ParseResult.Plan;
  }

  private planFor(b: Buffer, r: TextRequest): Plan {
    switch (r.cmd) {
      case Cmd.Get:
      case Cmd.Gets:
      case Cmd.Gat:
      case Cmd.Gats:
        return r.keyCount === 1 ? this.forward(b, r, Kind.Multi, true) : this.multiGet(b, r);
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
        return { kind: "local", reply: SHUTDOWN_REPLY };
      case Cmd.LruCrawler:
        return this.lruCrawler(b, r);
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
  ): ForwardPlan {
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
    f.hashKey = undefined;
    return f;
  }

  private meta(b: Buffer, r: TextRequest, drop: number, idempotent: boolean): Plan {
    let q = -1;
    for (let i = 0; i < r.tokCount; i++)
      if (r.tokEnds[i] - r.tokStarts[i] === 1 && b[r.tokStarts[i]] === 0x71) q = i;
    const silent = q >= 0;
    const rewrite = silent
      ? cut(b, r.frameStart, r.tokStarts[q] - 1, r.tokEnds[q], r.frameEnd)
      : undefined;
    const expect = silent ? Kind.Meta | drop : Kind.Meta;
    if ((r.mflags & MetaFlag.b) === 0)
      return this.fill(b, r, rewrite, expect, silent, idempotent, r.cmd === Cmd.Mg);
    return this.base64Key(b, r, rewrite, expect, silent, idempotent);
  }

  /**
   * Flag b: the frame goes out as the client sent it (the backend decodes the key itself) and
   * the plan's hashKey is the decoded key, what memcached stores and the pool hashes, on the
   * first pick and on a retry alike; so these are as idempotent as their raw-key forms.
   */
  private base64Key(
    b: Buffer,
    r: TextRequest,
    rewrite: Buffer | undefined,
    expect: number,
    silent: boolean,
    idempotent: boolean,
  ): Plan {
    const n = decodeBase64Into(b, r.keyStart, r.keyEnd, this.keyScratch);
    if (n < 0) return { kind: "local", reply: Buffer.from("CLIENT_ERROR error decoding key\r\n") };
    const f = this.fill(b, r, rewrite, expect, silent, idempotent, r.cmd === Cmd.Mg);
    f.hashKey = this.keyScratch.subarray(0, n);
    return f;
  }

  /**
   * One fragment per server (multiget.ts); the frame as it is when one server has every key.
   * More than BATCH_KEYS keys are planned a batch at a time (LargeGet): this plan is the
   * first batch, and `more` asks the client for another next() on a later turn.
   */
  private multiGet(b: Buffer, r: TextRequest): Plan {
    const state = this.state;
    if (state === undefined) return this.fill(b, r, undefined, Kind.Multi, false, false, true);
    // A pool of one server too: the reply is then matched and written a batch per turn, not
    // framed and copied whole in one pass.
    if (r.keyCount > BATCH_KEYS) {
      this.large = new LargeGet(b, r, this.shardOf);
      return this.batch(this.large);
    }
    if (state.servers <= 1) return this.fill(b, r, undefined, Kind.Multi, false, false, true);
    const split = planMultiGet(b, r, this.shardOf);
    // Not idempotent: a retry would send every key to the new owner of the first one.
    return split ?? this.fill(b, r, undefined, Kind.Multi, false, false, true);
  }

  /** The next batch of the large retrieval being planned. */
  private batch(large: LargeGet): Plan {
    const plan = large.next();
    this.more = !large.done;
    if (!this.more) this.large = undefined;
    return plan;
  }

  /**
   * lru_crawler: every server (protocol.txt "LRU_Crawler"). metadump dumps are concatenated on a
   * connection of their own; the one-line subcommands answer OK when every server did.
   * Anything else gets memcached 1.6.18's reply to an unknown subcommand, ERROR, and is not
   * forwarded (a newer subcommand's reply shape, e.g. mgdump, is unknown to the framer).
   */
  private lruCrawler(b: Buffer, r: TextRequest): Plan {
    const sub = b.toString("latin1", r.argStart, r.argEnd).trim().split(/ +/)[0] ?? "";
    const request = Buffer.from(b.subarray(r.frameStart, r.frameEnd));
    if (sub === "metadump") {
      this.channel = DUMP_CHANNEL;
      const merge = new TextDumpMerger(0);
      return { kind: "broadcast", request, expect: Kind.Dump, merge, silent: false };
    }
    if (CRAWLER_LINE.has(sub)) {
      const merge = new TextAllOkMerger(0, false);
      return { kind: "broadcast", request, expect: Kind.Line, merge, silent: false };
    }
    return { kind: "local", reply: ERROR };
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
