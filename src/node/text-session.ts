import { TextRequestParser } from "../protocol/memcache/text.js";
import { Cmd, TextRequest } from "../protocol/memcache/text-request.js";
import { normalizeExptime } from "../store/expiry.js";
import { IncrResult, NO_ITEM, StoreMode, StoreResult } from "../store/types.js";
import type { OutBuffer } from "../util/out-buffer.js";
import type { NodeContext } from "./context.js";
import { lruCrawler } from "./crawler.js";
import { executeMeta } from "./meta-exec.js";
import { line, writeU64 } from "./reply.js";
import { ParsedSession } from "./session.js";
import {
  generalStats,
  itemsStats,
  renderText,
  settingsStats,
  sizesStats,
  slabsStats,
} from "./stats.js";

/** The version string clients see; feature detection in clients keys off memcached's numbers. */
export const PROTOCOL_VERSION = "1.6.18";

const storeModes: Partial<Record<Cmd, StoreMode>> = {
  [Cmd.Set]: StoreMode.Set,
  [Cmd.Add]: StoreMode.Add,
  [Cmd.Replace]: StoreMode.Replace,
  [Cmd.Append]: StoreMode.Append,
  [Cmd.Prepend]: StoreMode.Prepend,
  [Cmd.Cas]: StoreMode.Cas,
};

/** Reply lines with their CRLF, as bytes: hot replies are copied, never encoded per request. */
const crlfLine = (s: string) => Buffer.from(`${s}\r\n`, "latin1");

const storeReplies: Record<StoreResult, Buffer> = {
  [StoreResult.Stored]: crlfLine("STORED"),
  [StoreResult.NotStored]: crlfLine("NOT_STORED"),
  [StoreResult.Exists]: crlfLine("EXISTS"),
  [StoreResult.NotFound]: crlfLine("NOT_FOUND"),
  [StoreResult.TooLarge]: crlfLine("SERVER_ERROR object too large for cache"),
  [StoreResult.NoMemory]: crlfLine("SERVER_ERROR out of memory storing object"),
};
const VALUE_ = Buffer.from("VALUE ", "latin1");
const END = crlfLine("END");

export class TextSession extends ParsedSession<TextRequest> {
  constructor(ctx: NodeContext) {
    super(
      ctx,
      new TextRequest(),
      new TextRequestParser({ maxValueBytes: ctx.options.maxItemSize }),
    );
  }

  protected reject(req: TextRequest, out: OutBuffer): boolean {
    if (req.error === "SERVER_ERROR object too large for cache") {
      this.ctx.counters.store_too_large++;
      // memcached process_update_command: a failed set must not leave stale data behind.
      if (req.cmd === Cmd.Set && req.keyCount > 0) {
        this.ctx.store.delete(this.parser.buffer, req.keyStart, req.keyEnd, this.ctx.now());
      }
    }
    if (req.error !== "") line(out, req.error);
    return req.close;
  }

  protected execute(req: TextRequest, out: OutBuffer): boolean {
    const ctx = this.ctx;
    const buf = this.parser.buffer;
    const c = ctx.counters;
    switch (req.cmd) {
      case Cmd.Get:
      case Cmd.Gets:
        this.retrieve(req, buf, out, req.cmd === Cmd.Gets, false);
        return false;
      case Cmd.Gat:
      case Cmd.Gats:
        this.retrieve(req, buf, out, req.cmd === Cmd.Gats, true);
        return false;
      case Cmd.Touch: {
        c.cmd_touch++;
        const now = ctx.now();
        const h = ctx.store.find(buf, req.keyStart, req.keyEnd, now);
        if (h === NO_ITEM) c.touch_misses++;
        else {
          c.touch_hits++;
          ctx.store.setExptime(h, normalizeExptime(req.exptime, now));
        }
        if (!req.noreply) line(out, h === NO_ITEM ? "NOT_FOUND" : "TOUCHED");
        return false;
      }
      case Cmd.Set:
      case Cmd.Add:
      case Cmd.Replace:
      case Cmd.Append:
      case Cmd.Prepend:
      case Cmd.Cas:
        this.storeCmd(req, buf, out);
        return false;
      case Cmd.Delete: {
        const ok = ctx.store.delete(buf, req.keyStart, req.keyEnd, ctx.now());
        if (ok) c.delete_hits++;
        else c.delete_misses++;
        if (!req.noreply) line(out, ok ? "DELETED" : "NOT_FOUND");
        return false;
      }
      case Cmd.Incr:
      case Cmd.Decr:
        this.incrDecr(req, buf, out);
        return false;
      case Cmd.FlushAll: {
        c.cmd_flush++;
        const now = ctx.now();
        // protocol.txt "flush_all": the optional delay is an exptime (relative or absolute).
        const delay = req.hasDelay && req.delay > 0 ? normalizeExptime(req.delay, now) - now : 0;
        ctx.store.flushAll(delay, now);
        if (!req.noreply) line(out, "OK");
        return false;
      }
      case Cmd.Version:
        line(out, `VERSION ${PROTOCOL_VERSION}`);
        return false;
      case Cmd.Verbosity:
        ctx.verbosity = req.level;
        if (!req.noreply) line(out, "OK");
        return false;
      case Cmd.Stats:
        this.stats(buf.toString("latin1", req.argStart, req.argEnd).trim(), out);
        return false;
      case Cmd.Quit:
        return true;
      case Cmd.Shutdown:
        // memcached refuses unless started with -A (enable_shutdown); so do we, always.
        line(out, "ERROR: shutdown not enabled");
        return false;
      case Cmd.LruCrawler:
        this.more = lruCrawler(
          ctx,
          buf.toString("latin1", req.argStart, req.argEnd).trim(),
          out,
          this.budget,
        );
        return false;
      case Cmd.Mg:
      case Cmd.Ms:
      case Cmd.Md:
      case Cmd.Ma:
      case Cmd.Mn:
      case Cmd.Me:
        c.cmd_meta++;
        executeMeta(ctx, req, buf, out);
        return false;
      default:
        line(out, "ERROR");
        return false;
    }
  }

  private retrieve(
    req: TextRequest,
    buf: Buffer,
    out: OutBuffer,
    withCas: boolean,
    touch: boolean,
  ) {
    const n = req.keyCount;
    if (touch) {
      // gat/gats lines are at most 2048 bytes (memcached's limit for anything but get/gets),
      // so their replies are written whole; their touches are writes to replicate.
      const c = this.ctx.counters;
      const now = this.ctx.now();
      const exp = normalizeExptime(req.exptime, now);
      c.cmd_touch += n;
      this.values(buf, req.keyStarts, req.keyEnds, 0, n, out, withCas, true, exp, Infinity);
      out.raw(END);
      return;
    }
    const i = this.values(
      buf,
      req.keyStarts,
      req.keyEnds,
      0,
      n,
      out,
      withCas,
      false,
      0,
      this.budget,
    );
    if (i === n) {
      out.raw(END);
      return;
    }
    // The reply passed the output budget: the rest is written by later run()s, in later
    // turns. The keys live in the parser's buffer, which the next read may reuse: copy the
    // ones still to answer (once; they are contiguous in the request line).
    const base = req.keyStarts[i];
    const keys = Buffer.from(buf.subarray(base, req.keyEnds[n - 1]));
    const starts = new Int32Array(n - i);
    const ends = new Int32Array(n - i);
    for (let k = i; k < n; k++) {
      starts[k - i] = req.keyStarts[k] - base;
      ends[k - i] = req.keyEnds[k] - base;
    }
    let next = 0;
    this.more = (o, budget) => {
      next = this.values(keys, starts, ends, next, starts.length, o, withCas, false, 0, budget);
      if (next < starts.length) return false;
      o.raw(END);
      return true;
    };
  }

  /**
   * Writes the VALUE block of each hit among keys [from, to) (protocol.txt "Retrieval
   * command"), with `touch` setting each hit's exptime to `exp`, until `out` passes `budget`.
   * Returns the index of the first key not answered (`to` when all were).
   */
  private values(
    buf: Buffer,
    starts: ArrayLike<number>,
    ends: ArrayLike<number>,
    from: number,
    to: number,
    out: OutBuffer,
    withCas: boolean,
    touch: boolean,
    exp: number,
    budget: number,
  ): number {
    const ctx = this.ctx;
    const store = ctx.store;
    const c = ctx.counters;
    const now = ctx.now();
    for (let i = from; i < to; i++) {
      if (out.pending >= budget) return i;
      const ks = starts[i];
      const ke = ends[i];
      c.cmd_get++;
      const h = store.find(buf, ks, ke, now);
      if (h === NO_ITEM) {
        c.get_misses++;
        if (touch) c.touch_misses++;
        continue;
      }
      c.get_hits++;
      if (touch) {
        c.touch_hits++;
        store.setExptime(h, exp);
      }
      const vlen = store.valueLength(h);
      out.ensure(ke - ks + 64 + vlen);
      out.raw(VALUE_);
      out.bytes(buf, ks, ke);
      out.u8(0x20);
      out.decimal(store.flags(h));
      out.u8(0x20);
      out.decimal(vlen);
      if (withCas) {
        out.u8(0x20);
        writeU64(out, store.verHi(h), store.verLo(h));
      }
      out.crlf();
      const vs = store.valueStart(h);
      out.bytes(store.valueBuffer(h), vs, vs + vlen);
      out.crlf();
    }
    return to;
  }

  private storeCmd(req: TextRequest, buf: Buffer, out: OutBuffer) {
    const ctx = this.ctx;
    const c = ctx.counters;
    const now = ctx.now();
    const mode = storeModes[req.cmd]!;
    c.cmd_set++;
    const r = ctx.storeItem(
      mode,
      buf,
      req.keyStart,
      req.keyEnd,
      buf,
      req.dataStart,
      req.dataEnd,
      req.flags,
      normalizeExptime(req.exptime, now),
      req.casHi,
      req.casLo,
    );
    if (!req.noreply) out.raw(storeReplies[r]);
  }

  private incrDecr(req: TextRequest, buf: Buffer, out: OutBuffer) {
    const ctx = this.ctx;
    const c = ctx.counters;
    const incr = req.cmd === Cmd.Incr;
    const v = ctx.nextVersion();
    const r = ctx.store.incrDecr(
      buf,
      req.keyStart,
      req.keyEnd,
      incr,
      req.deltaHi,
      req.deltaLo,
      ctx.now(),
      v.hi,
      v.lo,
    );
    if (r === IncrResult.NotFound) {
      if (incr) c.incr_misses++;
      else c.decr_misses++;
    } else if (r === IncrResult.Ok) {
      if (incr) c.incr_hits++;
      else c.decr_hits++;
    }
    if (req.noreply) return;
    switch (r) {
      case IncrResult.Ok: {
        const o = ctx.store.incrOut;
        writeU64(out, o.hi, o.lo);
        out.crlf();
        return;
      }
      case IncrResult.NotFound:
        line(out, "NOT_FOUND");
        return;
      case IncrResult.NonNumeric:
        line(out, "CLIENT_ERROR cannot increment or decrement non-numeric value");
        return;
      default:
        line(out, "SERVER_ERROR out of memory");
    }
  }

  private stats(arg: string, out: OutBuffer) {
    const ctx = this.ctx;
    switch (arg) {
      case "":
        out.ascii(renderText(generalStats(ctx)));
        return;
      case "settings":
        out.ascii(renderText(settingsStats(ctx)));
        return;
      case "items":
        out.ascii(renderText(itemsStats(ctx)));
        return;
      case "slabs":
        out.ascii(renderText(slabsStats(ctx)));
        return;
      case "sizes":
        out.ascii(renderText(sizesStats(ctx)));
        return;
      case "reset":
        for (const k of Object.keys(ctx.counters) as Array<keyof typeof ctx.counters>) {
          if (k !== "curr_connections") ctx.counters[k] = 0;
        }
        line(out, "RESET");
        return;
      default:
        // memcached: an unknown stats group is a bad command (proto_text.c process_stat).
        line(out, "ERROR");
    }
  }
}
