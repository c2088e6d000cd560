/**
 * Meta commands (protocol.txt "Meta Commands": mg, ms, md, ma, mn, me) over the store, with
 * memcached 1.6.18's reply codes, return-flag order and stale/win semantics (proto_text.c
 * process_m*_command). The parser has already validated flags and tokens.
 */
import { Cmd, MetaFlag as F, type TextRequest } from "../protocol/memcache/text-request.js";
import { normalizeExptime } from "../store/expiry.js";
import { IncrResult, NO_ITEM, StoreMode, StoreResult } from "../store/types.js";
import type { OutBuffer } from "../util/out-buffer.js";
import type { NodeContext } from "./context.js";
import { echoFlags, keyOf, ttlLeft } from "./meta-common.js";
import { metaDebug, metaGet } from "./meta-get.js";
import { line, writeInt, writeU64 } from "./reply.js";

export function executeMeta(ctx: NodeContext, req: TextRequest, buf: Buffer, out: OutBuffer): void {
  switch (req.cmd) {
    case Cmd.Mn:
      out.ascii("MN\r\n");
      return;
    case Cmd.Me:
      metaDebug(ctx, req, buf, out);
      return;
    case Cmd.Mg:
      metaGet(ctx, req, buf, out);
      return;
    case Cmd.Ms:
      metaSet(ctx, req, buf, out);
      return;
    case Cmd.Md:
      metaDelete(ctx, req, buf, out);
      return;
    case Cmd.Ma:
      metaArithmetic(ctx, req, buf, out);
      return;
  }
}

const msModes: Record<number, StoreMode> = {
  69: StoreMode.Add, // E
  101: StoreMode.Add,
  65: StoreMode.Append, // A
  97: StoreMode.Append,
  80: StoreMode.Prepend, // P
  112: StoreMode.Prepend,
  82: StoreMode.Replace, // R
  114: StoreMode.Replace,
  83: StoreMode.Set, // S
  115: StoreMode.Set,
};

function metaSet(ctx: NodeContext, req: TextRequest, buf: Buffer, out: OutBuffer): void {
  const store = ctx.store;
  const now = ctx.now();
  const k = keyOf(req, buf);
  const m = req.mflags;
  ctx.counters.cmd_set++;
  let mode = req.mode === 0 ? StoreMode.Set : msModes[req.mode];
  const exp = normalizeExptime(req.exptime, now);
  // N with append/prepend: vivify the item empty first (protocol.txt, ms N).
  if (m & F.N && (mode === StoreMode.Append || mode === StoreMode.Prepend)) {
    if (store.peek(k.buf, k.s, k.e, now) === NO_ITEM) {
      const v0 = ctx.nextVersion();
      store.put(
        k.buf,
        k.s,
        k.e,
        0,
        req.flags,
        normalizeExptime(req.vivifyTtl, now),
        v0.hi,
        v0.lo,
        now,
      );
    }
  }
  let invalidated = false;
  if (m & F.C) {
    if (mode === StoreMode.Set) mode = StoreMode.Cas;
    // I: a CAS older than the item's still stores, but the item is marked stale.
    if (m & F.I) {
      const cur = store.peek(k.buf, k.s, k.e, now);
      if (cur !== NO_ITEM && olderThan(req.casHi, req.casLo, store.verHi(cur), store.verLo(cur))) {
        invalidated = true;
        mode = StoreMode.Set;
      }
    }
  }
  const r = ctx.storeItem(
    mode,
    k.buf,
    k.s,
    k.e,
    buf,
    req.dataStart,
    req.dataEnd,
    req.flags,
    exp,
    req.casHi,
    req.casLo,
  );
  let h = NO_ITEM;
  if (r === StoreResult.Stored) {
    h = store.peek(k.buf, k.s, k.e, now);
    if (invalidated && h !== NO_ITEM) {
      store.setStale(h, true);
      store.setTokenSent(h, true);
    }
  }
  if (r === StoreResult.Stored && m & F.q) return;
  const code =
    r === StoreResult.Stored
      ? "HD"
      : r === StoreResult.Exists
        ? "EX"
        : r === StoreResult.NotFound
          ? mode === StoreMode.Cas
            ? "NF"
            : "NS"
          : r === StoreResult.NotStored
            ? "NS"
            : r === StoreResult.TooLarge
              ? "SERVER_ERROR object too large for cache"
              : "SERVER_ERROR out of memory storing object";
  out.ascii(code);
  if (code.length === 2) {
    if (h !== NO_ITEM) echoFlags(req, buf, out, store.verHi(h), store.verLo(h));
    else echoFlags(req, buf, out);
  }
  out.crlf();
}

/** True when version a is older (smaller, unsigned 64-bit) than b. */
function olderThan(aHi: number, aLo: number, bHi: number, bLo: number): boolean {
  return aHi >>> 0 !== bHi >>> 0 ? aHi >>> 0 < bHi >>> 0 : aLo >>> 0 < bLo >>> 0;
}

function metaDelete(ctx: NodeContext, req: TextRequest, buf: Buffer, out: OutBuffer): void {
  const store = ctx.store;
  const now = ctx.now();
  const k = keyOf(req, buf);
  const m = req.mflags;
  const h = store.peek(k.buf, k.s, k.e, now);
  let code: string;
  if (h === NO_ITEM) {
    code = "NF";
    ctx.counters.delete_misses++;
  } else if (
    m & F.C &&
    (store.verHi(h) >>> 0 !== req.casHi >>> 0 || store.verLo(h) >>> 0 !== req.casLo >>> 0)
  ) {
    code = "EX";
  } else {
    ctx.counters.delete_hits++;
    if (m & F.I) {
      // I: mark stale instead of removing, so one client can recache it (protocol.txt, md I).
      const v = ctx.nextVersion();
      store.setVersion(h, v.hi, v.lo);
      store.setStale(h, true);
      store.setTokenSent(h, false);
      if (m & F.T) store.setExptime(h, normalizeExptime(req.exptime, now));
    } else store.delete(k.buf, k.s, k.e, now);
    code = "HD";
  }
  if (code === "HD" && m & F.q) return;
  out.ascii(code);
  echoFlags(req, buf, out);
  out.crlf();
}

function metaArithmetic(ctx: NodeContext, req: TextRequest, buf: Buffer, out: OutBuffer): void {
  const store = ctx.store;
  const c = ctx.counters;
  const now = ctx.now();
  const k = keyOf(req, buf);
  const m = req.mflags;
  const incr = !(req.mode === 0x44 || req.mode === 0x64 || req.mode === 0x2d); // D d -
  let h = store.peek(k.buf, k.s, k.e, now);
  let code = "HD";
  let hi = 0;
  let lo = 0;
  if (
    h !== NO_ITEM &&
    m & F.C &&
    (store.verHi(h) >>> 0 !== req.casHi >>> 0 || store.verLo(h) >>> 0 !== req.casLo >>> 0)
  ) {
    code = "EX";
  } else if (h === NO_ITEM) {
    if (incr) c.incr_misses++;
    else c.decr_misses++;
    if (m & F.N) {
      // N: autovivify with the J initial value (default 0); the delta is not applied.
      const digits = initialDigits(req.initialHi, req.initialLo);
      const v = ctx.nextVersion();
      h = store.put(
        k.buf,
        k.s,
        k.e,
        digits.length,
        0,
        normalizeExptime(req.vivifyTtl, now),
        v.hi,
        v.lo,
        now,
      );
      if (h === NO_ITEM) code = "SERVER_ERROR out of memory";
      else {
        digits.copy(store.valueBuffer(h), store.valueStart(h));
        hi = req.initialHi;
        lo = req.initialLo;
      }
    } else code = "NF";
  } else {
    const v = ctx.nextVersion();
    const r = store.incrDecr(k.buf, k.s, k.e, incr, req.deltaHi, req.deltaLo, now, v.hi, v.lo);
    if (r === IncrResult.Ok) {
      if (incr) c.incr_hits++;
      else c.decr_hits++;
      h = store.incrOut.handle;
      hi = store.incrOut.hi;
      lo = store.incrOut.lo;
    } else if (r === IncrResult.NonNumeric) {
      line(out, "CLIENT_ERROR cannot increment or decrement non-numeric value");
      return;
    } else code = "SERVER_ERROR out of memory";
  }
  if (code === "HD" && m & F.T && h !== NO_ITEM)
    store.setExptime(h, normalizeExptime(req.exptime, now));
  if (code !== "HD") {
    out.ascii(code);
    if (code.length === 2) echoFlags(req, buf, out);
    out.crlf();
    return;
  }
  if ((m & F.v) === 0 && m & F.q) return;
  const digits = initialDigits(hi, lo);
  if (m & F.v) {
    out.ascii("VA ");
    out.decimal(digits.length);
  } else out.ascii("HD");
  for (let i = 0; i < req.tokCount; i++) {
    const s = req.tokStarts[i];
    const ch = buf[s];
    if (ch === 0x74) {
      out.ascii(" t");
      writeInt(out, ttlLeft(store, h, now));
    } else if (ch === 0x63) {
      out.ascii(" c");
      writeU64(out, store.verHi(h), store.verLo(h));
    } else if (ch === 0x4f) {
      out.u8(0x20);
      out.bytes(buf, s, req.tokEnds[i]);
    } else if (ch === 0x6b) {
      out.ascii(" k");
      out.bytes(buf, req.keyStart, req.keyEnd);
      if (m & F.b) out.ascii(" b");
    }
  }
  out.crlf();
  if (m & F.v) {
    out.bytes(digits, 0, digits.length);
    out.crlf();
  }
}

function initialDigits(hi: number, lo: number): Buffer {
  const s = hi === 0 ? String(lo >>> 0) : ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
  return Buffer.from(s, "latin1");
}
