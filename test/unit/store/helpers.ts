/** Small helpers for the store tests: string keys/values over the (buf, start, end) API. */
import { Store } from "../../../src/store/store.js";
import {
  type Handle,
  NO_ITEM,
  StoreMode,
  type StoreOptions,
  type StoreResult,
} from "../../../src/store/types.js";

export function mkStore(opts: Partial<StoreOptions> = {}): Store {
  return new Store({ memoryLimitBytes: 64 << 20, maxItemSize: 1 << 20, hashSeed: 7, ...opts });
}

export function k(s: string): Buffer {
  return Buffer.from(s, "latin1");
}

export function set(
  st: Store,
  mode: StoreMode,
  key: string,
  value: string | Buffer,
  now: number,
  o: { flags?: number; exp?: number; cas?: [number, number]; ver?: [number, number] } = {},
): StoreResult {
  const kb = k(key);
  const vb = typeof value === "string" ? k(value) : value;
  const [casHi, casLo] = o.cas ?? [0, 0];
  const [vh, vl] = o.ver ?? [0, 1];
  return st.store(
    mode,
    kb,
    0,
    kb.length,
    vb,
    0,
    vb.length,
    o.flags ?? 0,
    o.exp ?? 0,
    casHi,
    casLo,
    vh,
    vl,
    now,
  );
}

export function setv(
  st: Store,
  key: string,
  value: string | Buffer,
  now: number,
  exp = 0,
): StoreResult {
  return set(st, StoreMode.Set, key, value, now, { exp });
}

/** The live value as a string, or undefined. */
export function get(st: Store, key: string, now: number): string | undefined {
  const kb = k(key);
  const h = st.find(kb, 0, kb.length, now);
  return h === NO_ITEM ? undefined : valStr(st, h);
}

export function valStr(st: Store, h: Handle): string {
  const s = st.valueStart(h);
  return st.valueBuffer(h).toString("latin1", s, s + st.valueLength(h));
}

export function keyOf(st: Store, h: Handle): string {
  const s = st.keyStart(h);
  return st.keyBuffer(h).toString("latin1", s, s + st.keyLength(h));
}

export function del(st: Store, key: string, now: number): boolean {
  const kb = k(key);
  return st.delete(kb, 0, kb.length, now);
}
