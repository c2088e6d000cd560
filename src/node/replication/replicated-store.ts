/**
 * The store of a replicated node. It is the plain Store plus two duties:
 *
 * 1. Capture: every successful local mutation marks its key dirty (a copy of the key), whatever
 *    the command (text, meta or binary set/add/replace/cas/append/prepend/incr/decr/touch/gat/
 *    delete). The replication manager later reads each dirty key's RESULTING state (item or
 *    tombstone) and logs that, never the command, so peers converge by last-writer-wins.
 *    A local delete leaves a tombstone carrying a fresh version, so that an older write arriving
 *    from a peer cannot resurrect the key.
 * 2. Apply: records from peers go through applyRecord(), which compares versions (unsigned
 *    64-bit, hi/lo) against any linked item with the key, tombstones included.
 *
 * Hooking the Store's mutators here keeps the sessions unaware of replication: they only report
 * the end of a command (NodeContext.endWrite) so sync mode can hold the reply.
 */

import { Store } from "../../store/store.js";
import {
  type Handle,
  IncrResult,
  NO_ITEM,
  StoreMode,
  type StoreOptions,
  StoreResult,
  type TombstoneSpec,
} from "../../store/types.js";
import { compareVersion, type Version } from "../clock.js";
import { RecOp, type Record } from "./frame.js";

export interface StoreHooks {
  /** A fresh version for a write the store makes on its own (a local delete's tombstone). */
  nextVersion(): Version;
  /** The first dirty key of a command (or a flush) was recorded. */
  onDirty(): void;
  /** A local flush_all; `at` is 0 for now, else the absolute time it takes effect. */
  onFlush(at: number): void;
  /** Seconds tombstones live. */
  tombstoneTtl: number;
}

export const ApplyResult = { Applied: 0, Stale: 1, Failed: 2 } as const;
export type ApplyResult = (typeof ApplyResult)[keyof typeof ApplyResult];

export class ReplicatedStore extends Store {
  /** True while applying a peer's record: capture stays quiet. */
  private applying = false;
  private keys = Buffer.allocUnsafe(4096);
  private keysLen = 0;
  /** End offset of each dirty key in `keys`. */
  private readonly keyEnds: number[] = [];
  /** Version of the newest immediate flush_all seen (local or remote): older writes are void. */
  readonly flushVer: Version = { hi: 0, lo: 0 };

  constructor(
    opts: StoreOptions,
    private readonly hooks: StoreHooks,
  ) {
    super(opts);
  }

  get dirtyCount(): number {
    return this.keyEnds.length;
  }

  /** Calls fn(keys, start, end) for each dirty key in order, then forgets them. */
  drainDirty(fn: (keys: Buffer, ks: number, ke: number) => void): void {
    let s = 0;
    for (let i = 0; i < this.keyEnds.length; i++) {
      const e = this.keyEnds[i];
      fn(this.keys, s, e);
      s = e;
    }
    this.keyEnds.length = 0;
    this.keysLen = 0;
  }

  private mark(key: Uint8Array, ks: number, ke: number): void {
    if (this.applying) return;
    const n = ke - ks;
    if (this.keysLen + n > this.keys.length) {
      const next = Buffer.allocUnsafe(Math.max(this.keys.length * 2, this.keysLen + n));
      this.keys.copy(next, 0, 0, this.keysLen);
      this.keys = next;
    }
    this.keys.set(key.subarray(ks, ke), this.keysLen);
    this.keysLen += n;
    this.keyEnds.push(this.keysLen);
    if (this.keyEnds.length === 1) this.hooks.onDirty();
  }

  private markHandle(h: Handle): void {
    const s = this.keyStart(h);
    this.mark(this.keyBuffer(h), s, s + this.keyLength(h));
  }

  override store(
    mode: StoreMode,
    key: Uint8Array,
    ks: number,
    ke: number,
    val: Buffer,
    vs: number,
    ve: number,
    flags: number,
    exptimeAbs: number,
    casHi: number,
    casLo: number,
    newVerHi: number,
    newVerLo: number,
    now: number,
  ): StoreResult {
    const r = super.store(
      mode,
      key,
      ks,
      ke,
      val,
      vs,
      ve,
      flags,
      exptimeAbs,
      casHi,
      casLo,
      newVerHi,
      newVerLo,
      now,
    );
    // A refused Set also drops the old value (memcached process_update_command): replicate that.
    if (r === StoreResult.Stored || (mode === StoreMode.Set && r !== StoreResult.NotStored)) {
      this.mark(key, ks, ke);
    }
    return r;
  }

  override put(
    key: Uint8Array,
    ks: number,
    ke: number,
    valueLength: number,
    flags: number,
    exptimeAbs: number,
    verHi: number,
    verLo: number,
    now: number,
  ): Handle {
    const h = super.put(key, ks, ke, valueLength, flags, exptimeAbs, verHi, verLo, now);
    // The caller writes the value after put() returns; the state is read at commit time.
    if (h !== NO_ITEM) this.mark(key, ks, ke);
    return h;
  }

  override delete(
    key: Uint8Array,
    ks: number,
    ke: number,
    now: number,
    tombstone?: TombstoneSpec,
  ): boolean {
    if (this.applying || tombstone !== undefined) return super.delete(key, ks, ke, now, tombstone);
    if (this.peek(key, ks, ke, now) === NO_ITEM) return super.delete(key, ks, ke, now);
    const v = this.hooks.nextVersion();
    const ttl = this.hooks.tombstoneTtl;
    const ok = super.delete(key, ks, ke, now, { verHi: v.hi, verLo: v.lo, ttl });
    this.mark(key, ks, ke);
    return ok;
  }

  override incrDecr(
    key: Uint8Array,
    ks: number,
    ke: number,
    incr: boolean,
    deltaHi: number,
    deltaLo: number,
    now: number,
    newVerHi: number,
    newVerLo: number,
  ): IncrResult {
    const r = super.incrDecr(key, ks, ke, incr, deltaHi, deltaLo, now, newVerHi, newVerLo);
    if (r === IncrResult.Ok) this.mark(key, ks, ke);
    return r;
  }

  override flushAll(delaySeconds: number, now: number): void {
    super.flushAll(delaySeconds, now);
    if (this.applying) return;
    this.hooks.onFlush(delaySeconds > 0 ? now + delaySeconds : 0);
  }

  override setExptime(h: Handle, exptimeAbs: number): void {
    super.setExptime(h, exptimeAbs);
    this.markHandle(h);
  }

  override setVersion(h: Handle, verHi: number, verLo: number): void {
    super.setVersion(h, verHi, verLo);
    this.markHandle(h);
  }

  /**
   * Applies a peer's record by last-writer-wins. An older version than the key's current one
   * (live, expired or tombstone) is stale; the same version is the same write, except that a
   * touch/gat keeps the version and changes only the exptime, so an equal Set refreshes it.
   */
  applyRecord(r: Record, now: number): ApplyResult {
    if (r.op === RecOp.Flush) return this.applyFlush(r, now);
    const fv = this.flushVer;
    if (compareVersion(r.verHi, r.verLo, fv.hi, fv.lo) <= 0) return ApplyResult.Stale;
    const h = this.findAny(r.buf, r.keyStart, r.keyEnd);
    if (h !== NO_ITEM) {
      const c = compareVersion(r.verHi, r.verLo, this.verHi(h) >>> 0, this.verLo(h) >>> 0);
      if (c < 0) return ApplyResult.Stale;
      if (c === 0) {
        if (r.op === RecOp.Set && !this.isTombstone(h) && this.exptime(h) !== r.exptime) {
          super.setExptime(h, r.exptime);
          return ApplyResult.Applied;
        }
        return ApplyResult.Stale;
      }
    }
    this.applying = true;
    try {
      if (r.op === RecOp.Del) {
        super.delete(r.buf, r.keyStart, r.keyEnd, now, {
          verHi: r.verHi,
          verLo: r.verLo,
          ttl: this.hooks.tombstoneTtl,
        });
        return ApplyResult.Applied;
      }
      const vlen = r.valueEnd - r.valueStart;
      const n = super.put(
        r.buf,
        r.keyStart,
        r.keyEnd,
        vlen,
        r.flags,
        r.exptime,
        r.verHi,
        r.verLo,
        now,
      );
      if (n === NO_ITEM) return ApplyResult.Failed;
      r.buf.copy(this.valueBuffer(n), this.valueStart(n), r.valueStart, r.valueEnd);
      return ApplyResult.Applied;
    } finally {
      this.applying = false;
    }
  }

  /** Remembers an immediate flush's version so writes from before it stay void. */
  noteFlush(v: Version): void {
    if (compareVersion(v.hi, v.lo, this.flushVer.hi, this.flushVer.lo) > 0) {
      this.flushVer.hi = v.hi;
      this.flushVer.lo = v.lo;
    }
  }

  private applyFlush(r: Record, now: number): ApplyResult {
    const fv = this.flushVer;
    if (r.exptime === 0 && compareVersion(r.verHi, r.verLo, fv.hi, fv.lo) <= 0) {
      return ApplyResult.Stale;
    }
    this.applying = true;
    try {
      super.flushAll(r.exptime === 0 ? 0 : Math.max(0, r.exptime - now), now);
    } finally {
      this.applying = false;
    }
    if (r.exptime === 0) this.noteFlush({ hi: r.verHi, lo: r.verLo });
    return ApplyResult.Applied;
  }
}
