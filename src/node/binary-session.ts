/**
 * The binary protocol session (protocol-binary.txt), with memcached 1.6.18's statuses, error
 * texts and quiet-command rules (proto_bin.c). Binary is deprecated upstream but still what
 * many clients speak (memjs, spymemcached), so keepcache serves every opcode memcached does.
 */
import {
  BinaryRequest,
  BinaryRequestParser,
  Opcode as Op,
  binaryStatus as S,
} from "../protocol/memcache/binary.js";
import { normalizeExptime } from "../store/expiry.js";
import { IncrResult, NO_ITEM, StoreMode, StoreResult } from "../store/types.js";
import type { OutBuffer } from "../util/out-buffer.js";
import { binaryError, respond } from "./binary-reply.js";
import { binaryStats } from "./binary-stat.js";
import type { NodeContext } from "./context.js";
import { ParsedSession } from "./session.js";
import { PROTOCOL_VERSION } from "./text-session.js";

const modes: Record<number, StoreMode> = {
  [Op.Set]: StoreMode.Set,
  [Op.SetQ]: StoreMode.Set,
  [Op.Add]: StoreMode.Add,
  [Op.AddQ]: StoreMode.Add,
  [Op.Replace]: StoreMode.Replace,
  [Op.ReplaceQ]: StoreMode.Replace,
  [Op.Append]: StoreMode.Append,
  [Op.AppendQ]: StoreMode.Append,
  [Op.Prepend]: StoreMode.Prepend,
  [Op.PrependQ]: StoreMode.Prepend,
};

const u64 = Buffer.alloc(8);

export class BinarySession extends ParsedSession<BinaryRequest> {
  constructor(ctx: NodeContext) {
    super(
      ctx,
      new BinaryRequest(),
      new BinaryRequestParser({ maxValueBytes: ctx.options.maxItemSize }),
    );
  }

  protected reject(req: BinaryRequest, out: OutBuffer): boolean {
    if (req.status === S.ValueTooLarge) this.ctx.counters.store_too_large++;
    if (req.silent) return true;
    binaryError(out, req, req.status);
    return req.close;
  }

  /** Executes one request; true when the connection must close afterwards. */
  protected execute(req: BinaryRequest, out: OutBuffer): boolean {
    const ctx = this.ctx;
    const buf = this.parser.buffer;
    const op = req.opcode;
    switch (op) {
      case Op.Get:
      case Op.GetQ:
      case Op.GetK:
      case Op.GetKQ:
      case Op.Touch:
      case Op.Gat:
      case Op.GatQ:
      case Op.GatK:
      case Op.GatKQ:
        this.getOrTouch(req, buf, out);
        return false;
      case Op.Set:
      case Op.SetQ:
      case Op.Add:
      case Op.AddQ:
      case Op.Replace:
      case Op.ReplaceQ:
      case Op.Append:
      case Op.AppendQ:
      case Op.Prepend:
      case Op.PrependQ:
        this.update(req, buf, out);
        return false;
      case Op.Delete:
      case Op.DeleteQ:
        this.remove(req, buf, out);
        return false;
      case Op.Increment:
      case Op.IncrementQ:
      case Op.Decrement:
      case Op.DecrementQ:
        this.arithmetic(req, buf, out);
        return false;
      case Op.Flush:
      case Op.FlushQ: {
        ctx.counters.cmd_flush++;
        const now = ctx.now();
        const delay =
          req.hasExptime && req.exptime > 0 ? normalizeExptime(req.exptime, now) - now : 0;
        ctx.store.flushAll(delay, now);
        if (!req.quiet) respond(out, req, S.NoError, 0, false, 0);
        return false;
      }
      case Op.Noop:
        respond(out, req, S.NoError, 0, false, 0);
        return false;
      case Op.Version:
        respond(out, req, S.NoError, 0, false, PROTOCOL_VERSION.length);
        out.ascii(PROTOCOL_VERSION);
        return false;
      case Op.Verbosity:
        ctx.verbosity = req.level;
        respond(out, req, S.NoError, 0, false, 0);
        return false;
      case Op.Quit:
        respond(out, req, S.NoError, 0, false, 0);
        return true;
      case Op.QuitQ:
        return true;
      case Op.Stat:
        binaryStats(this.ctx, req, buf, out);
        return false;
      default:
        binaryError(out, req, S.UnknownCommand);
        return false;
    }
  }

  private getOrTouch(req: BinaryRequest, buf: Buffer, out: OutBuffer): void {
    const ctx = this.ctx;
    const c = ctx.counters;
    const store = ctx.store;
    const op = req.opcode;
    const now = ctx.now();
    const touch =
      op === Op.Touch || op === Op.Gat || op === Op.GatQ || op === Op.GatK || op === Op.GatKQ;
    const withKey = op === Op.GetK || op === Op.GetKQ || op === Op.GatK || op === Op.GatKQ;
    if (touch) c.cmd_touch++;
    else c.cmd_get++;
    const h = store.find(buf, req.keyStart, req.keyEnd, now);
    if (h === NO_ITEM) {
      if (touch) c.touch_misses++;
      else c.get_misses++;
      if (req.quiet) return;
      if (withKey) {
        // process_bin_get_or_touch: a GETK miss carries the key and no error text.
        respond(out, req, S.KeyNotFound, 0, true, 0);
        out.bytes(buf, req.keyStart, req.keyEnd);
      } else binaryError(out, req, S.KeyNotFound);
      return;
    }
    if (touch) {
      c.touch_hits++;
      store.setExptime(h, normalizeExptime(req.exptime, now));
    } else c.get_hits++;
    const vlen = op === Op.Touch ? 0 : store.valueLength(h);
    respond(out, req, S.NoError, 4, withKey, vlen, store.verHi(h), store.verLo(h));
    out.ensure(4);
    out.buf.writeUInt32BE(store.flags(h), out.pos);
    out.pos += 4;
    if (withKey) out.bytes(buf, req.keyStart, req.keyEnd);
    if (vlen > 0) {
      const vs = store.valueStart(h);
      out.bytes(store.valueBuffer(h), vs, vs + vlen);
    }
  }

  private update(req: BinaryRequest, buf: Buffer, out: OutBuffer): void {
    const ctx = this.ctx;
    const c = ctx.counters;
    const now = ctx.now();
    let mode = modes[req.opcode];
    const hasCas = req.casHi !== 0 || req.casLo !== 0;
    // A set/add/replace carrying a CAS is a compare-and-swap (process_bin_update).
    if (hasCas && mode !== StoreMode.Append && mode !== StoreMode.Prepend) mode = StoreMode.Cas;
    c.cmd_set++;
    if (hasCas && (mode === StoreMode.Append || mode === StoreMode.Prepend)) {
      const cur = ctx.store.peek(buf, req.keyStart, req.keyEnd, now);
      if (
        cur !== NO_ITEM &&
        (ctx.store.verHi(cur) !== req.casHi || ctx.store.verLo(cur) !== req.casLo)
      ) {
        binaryError(out, req, S.KeyExists);
        return;
      }
    }
    const r = ctx.storeItem(
      mode,
      buf,
      req.keyStart,
      req.keyEnd,
      buf,
      req.valueStart,
      req.valueEnd,
      req.flags,
      normalizeExptime(req.exptime, now),
      req.casHi,
      req.casLo,
    );
    const v = ctx.ver;
    switch (r) {
      case StoreResult.Stored:
        if (!req.quiet) respond(out, req, S.NoError, 0, false, 0, v.hi, v.lo);
        return;
      case StoreResult.Exists:
        binaryError(out, req, S.KeyExists);
        return;
      case StoreResult.NotFound:
        binaryError(out, req, S.KeyNotFound);
        return;
      case StoreResult.TooLarge:
        binaryError(out, req, S.ValueTooLarge);
        return;
      case StoreResult.NoMemory:
        binaryError(out, req, S.OutOfMemory);
        return;
      default: {
        // complete_update_bin: NOT_STORED means "exists" for add, "not found" for replace.
        const base = mode;
        binaryError(
          out,
          req,
          base === StoreMode.Add
            ? S.KeyExists
            : base === StoreMode.Replace
              ? S.KeyNotFound
              : S.ItemNotStored,
        );
      }
    }
  }

  private remove(req: BinaryRequest, buf: Buffer, out: OutBuffer): void {
    const ctx = this.ctx;
    const now = ctx.now();
    const store = ctx.store;
    if (req.casHi !== 0 || req.casLo !== 0) {
      const h = store.peek(buf, req.keyStart, req.keyEnd, now);
      if (h !== NO_ITEM && (store.verHi(h) !== req.casHi || store.verLo(h) !== req.casLo)) {
        binaryError(out, req, S.KeyExists);
        return;
      }
    }
    if (store.delete(buf, req.keyStart, req.keyEnd, now)) {
      ctx.counters.delete_hits++;
      if (!req.quiet) respond(out, req, S.NoError, 0, false, 0);
    } else {
      ctx.counters.delete_misses++;
      binaryError(out, req, S.KeyNotFound);
    }
  }

  private arithmetic(req: BinaryRequest, buf: Buffer, out: OutBuffer): void {
    const ctx = this.ctx;
    const c = ctx.counters;
    const store = ctx.store;
    const now = ctx.now();
    const incr = req.opcode === Op.Increment || req.opcode === Op.IncrementQ;
    const cur = store.peek(buf, req.keyStart, req.keyEnd, now);
    if (cur !== NO_ITEM && (req.casHi !== 0 || req.casLo !== 0)) {
      if (store.verHi(cur) !== req.casHi || store.verLo(cur) !== req.casLo) {
        binaryError(out, req, S.KeyExists);
        return;
      }
    }
    const v = ctx.nextVersion();
    let hi: number;
    let lo: number;
    let verHi = v.hi;
    let verLo = v.lo;
    const r = store.incrDecr(
      buf,
      req.keyStart,
      req.keyEnd,
      incr,
      req.deltaHi,
      req.deltaLo,
      now,
      v.hi,
      v.lo,
    );
    if (r === IncrResult.Ok) {
      if (incr) c.incr_hits++;
      else c.decr_hits++;
      hi = store.incrOut.hi;
      lo = store.incrOut.lo;
    } else if (r === IncrResult.NotFound) {
      if (incr) c.incr_misses++;
      else c.decr_misses++;
      // protocol-binary.txt "Increment, Decrement": exptime 0xffffffff means do not create.
      if (req.exptime === -1) {
        binaryError(out, req, S.KeyNotFound);
        return;
      }
      const digits = Buffer.from(
        ((BigInt(req.initialHi) << 32n) | BigInt(req.initialLo)).toString(),
        "latin1",
      );
      const h = store.put(
        buf,
        req.keyStart,
        req.keyEnd,
        digits.length,
        0,
        normalizeExptime(req.exptime, now),
        v.hi,
        v.lo,
        now,
      );
      if (h === NO_ITEM) {
        binaryError(out, req, S.OutOfMemory);
        return;
      }
      digits.copy(store.valueBuffer(h), store.valueStart(h));
      hi = req.initialHi;
      lo = req.initialLo;
    } else if (r === IncrResult.NonNumeric) {
      binaryError(out, req, S.NonNumeric);
      return;
    } else {
      binaryError(out, req, S.OutOfMemory);
      return;
    }
    if (req.quiet) return;
    const h = store.incrOut.handle;
    if (r === IncrResult.Ok && h !== NO_ITEM) {
      verHi = store.verHi(h);
      verLo = store.verLo(h);
    }
    respond(out, req, S.NoError, 0, false, 8, verHi, verLo);
    u64.writeUInt32BE(hi >>> 0, 0);
    u64.writeUInt32BE(lo >>> 0, 4);
    out.bytes(u64, 0, 8);
  }
}
