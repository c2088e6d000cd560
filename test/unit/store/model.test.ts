import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { IncrResult, NO_ITEM, StoreMode, StoreResult } from "../../../src/store/types.js";
import { k, mkStore, valStr } from "./helpers.js";

/** A plain Map model of memcached semantics; exptime is absolute, 0 = never. */
interface Entry {
  value: string;
  flags: number;
  exp: number;
  ver: number;
}

/**
 * memcached's safe_strtoull over an item's value (util.c), written independently of the
 * store: strtoull's leading whitespace, sign and digits, ending at whitespace or the end;
 * ERANGE above 2^64-1; a '-' result with its top bit set refused. undefined: non-numeric.
 */
function strtoull(v: string): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)(?:[ \t\n\v\f\r\0]|$)/.exec(v);
  if (m === null) return undefined;
  let n = BigInt(m[2]);
  if (n >= 1n << 64n) return undefined;
  if (m[1] === "-" && n !== 0n) {
    n = (1n << 64n) - n;
    if (n >= 1n << 63n) return undefined;
  }
  return n;
}

const KEYS = ["a", "b", "cc", "key:1", "key:12"];
const keyArb = fc.constantFrom(...KEYS);
const valArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.bigInt(0n, (1n << 64n) - 1n).map(String),
  // Values strtoull reads with a twist: padding, signs, trailing text after whitespace.
  fc
    .tuple(
      fc.constantFrom("", " ", "\t", "+", "-", " -"),
      fc.bigInt(0n, 99999n),
      fc.constantFrom("", " ", "  x", "x"),
    )
    .map(([a, n, b]) => `${a}${n}${b}`),
);
const opArb = fc.oneof(
  fc.record({
    t: fc.constant("store" as const),
    mode: fc.constantFrom(0, 1, 2, 3, 4, 5),
    key: keyArb,
    value: valArb,
    flags: fc.nat(),
    ttl: fc.constantFrom(0, 0, 3, 10),
    casOff: fc.constantFrom(0, 0, 1),
  }),
  fc.record({ t: fc.constant("get" as const), key: keyArb }),
  fc.record({ t: fc.constant("del" as const), key: keyArb }),
  fc.record({ t: fc.constant("incr" as const), key: keyArb, incr: fc.boolean(), d: fc.nat(1000) }),
  fc.record({ t: fc.constant("tick" as const), s: fc.nat(5) }),
  fc.record({ t: fc.constant("flush" as const), delay: fc.constantFrom(0, 2) }),
);

test("random operations agree with a Map model", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
      const s = mkStore({ memoryLimitBytes: 4 << 20 });
      const m = new Map<string, Entry>();
      let now = 1_700_000_000;
      let ver = 1;
      let flushAt = Number.POSITIVE_INFINITY;
      const live = (key: string): Entry | undefined => {
        if (now >= flushAt) {
          m.clear();
          flushAt = Number.POSITIVE_INFINITY;
        }
        const e = m.get(key);
        if (e && e.exp !== 0 && e.exp <= now) {
          m.delete(key);
          return undefined;
        }
        return e;
      };
      for (const op of ops) {
        const kb = k(op.t === "tick" || op.t === "flush" ? "x" : op.key);
        if (op.t === "tick") now += op.s;
        else if (op.t === "flush") {
          s.flushAll(op.delay, now);
          live(""); // a due delayed flush happens first
          // memcached keeps one oldest_live setting: a later flush_all replaces a pending one
          // (proto_text.c process_flush_all_command), so an immediate flush cancels it.
          if (op.delay === 0) {
            m.clear();
            flushAt = Number.POSITIVE_INFINITY;
          } else flushAt = now + op.delay;
        } else if (op.t === "get") {
          const e = live(op.key);
          const h = s.find(kb, 0, kb.length, now);
          assert.equal(h === NO_ITEM ? undefined : valStr(s, h), e?.value);
          if (e) assert.deepEqual([s.flags(h), s.verLo(h), s.exptime(h)], [e.flags, e.ver, e.exp]);
        } else if (op.t === "del") {
          const e = live(op.key);
          m.delete(op.key);
          assert.equal(s.delete(kb, 0, kb.length, now), e !== undefined);
        } else if (op.t === "incr") {
          const e = live(op.key);
          const v = ++ver;
          const r = s.incrDecr(kb, 0, kb.length, op.incr, 0, op.d, now, 0, v);
          const cur = e === undefined ? undefined : strtoull(e.value);
          if (!e) assert.equal(r, IncrResult.NotFound);
          else if (cur === undefined) assert.equal(r, IncrResult.NonNumeric);
          else {
            assert.equal(r, IncrResult.Ok);
            const d = BigInt(op.d);
            const next = op.incr ? (cur + d) & ((1n << 64n) - 1n) : cur > d ? cur - d : 0n;
            // memcached do_add_delta: in place, space-padded, when the digits fit.
            const digits = next.toString();
            const value = digits.length <= e.value.length ? digits.padEnd(e.value.length) : digits;
            m.set(op.key, { ...e, value, ver: v });
            assert.equal(valStr(s, s.incrOut.handle), value);
          }
        } else {
          const e = live(op.key);
          const v = ++ver;
          const exp = op.ttl === 0 ? 0 : now + op.ttl;
          const vb = k(op.value);
          const casLo = (e?.ver ?? 0) + op.casOff;
          const r = s.store(
            op.mode,
            kb,
            0,
            kb.length,
            vb,
            0,
            vb.length,
            op.flags,
            exp,
            0,
            casLo,
            0,
            v,
            now,
          );
          let want: StoreResult = StoreResult.Stored;
          let next: Entry | undefined = { value: op.value, flags: op.flags, exp, ver: v };
          switch (op.mode as StoreMode) {
            case StoreMode.Add:
              if (e) want = StoreResult.NotStored;
              break;
            case StoreMode.Replace:
              if (!e) want = StoreResult.NotStored;
              break;
            case StoreMode.Append:
            case StoreMode.Prepend:
              if (!e) want = StoreResult.NotStored;
              else {
                const value =
                  op.mode === StoreMode.Append ? e.value + op.value : op.value + e.value;
                next = { ...e, value, ver: v };
              }
              break;
            case StoreMode.Cas:
              if (!e) want = StoreResult.NotFound;
              else if (op.casOff !== 0) want = StoreResult.Exists;
              break;
            default:
              break;
          }
          assert.equal(r, want);
          if (want === StoreResult.Stored) m.set(op.key, next);
        }
      }
      // Final state: every key agrees, and the item count matches.
      let count = 0;
      for (const key of KEYS) {
        const e = live(key);
        if (e) count++;
        const kb = k(key);
        const h = s.find(kb, 0, kb.length, now);
        assert.equal(h === NO_ITEM ? undefined : valStr(s, h), e?.value);
      }
      assert.equal(s.stats(now).currItems, count);
    }),
    { numRuns: 300 },
  );
});
