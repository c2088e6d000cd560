/**
 * Distributions by config name, and `buildRouter`, which applies twemproxy's per-key rules
 * around them (nc_server.c server_pool_idx / server_pool_hash).
 */
import { hashByName } from "../hash/index.js";
import type { HashFn } from "../hash/types.js";
import { ketama } from "./ketama.js";
import { modula } from "./modula.js";
import { random } from "./random.js";
import type { Distribution, DistributionServer, Picker } from "./types.js";

export const DISTRIBUTIONS = { ketama, modula, random } as const;

export function distributionByName(name: string): Distribution {
  const d = (DISTRIBUTIONS as Record<string, Distribution>)[name];
  if (!d) throw new RangeError(`unknown distribution '${name}'; one of: ketama, modula, random`);
  return d;
}

export interface RouterOptions {
  servers: readonly DistributionServer[];
  hash: string | HashFn;
  distribution: string | Distribution;
  /** Two characters, e.g. "{}", or undefined (pool hash_tag). */
  hashTag?: string | undefined;
}

/**
 * The part of key[start..end) that is hashed (server_pool_idx): with a hash tag, the bytes
 * between the first tag[0] and the next tag[1] after it, but only when both exist and the part
 * is non-empty; otherwise the whole key. Returns [start, end].
 */
export function hashTagRange(
  key: Buffer,
  start: number,
  end: number,
  open: number,
  close: number,
): [number, number] {
  const a = key.indexOf(open, start);
  if (a < 0 || a >= end) return [start, end];
  const b = key.indexOf(close, a + 1);
  if (b < 0 || b >= end || b - a <= 1) return [start, end];
  return [a + 1, b];
}

/**
 * key → server index exactly as nutcracker: one server always wins (no hashing), an empty key
 * hashes to 0, hash_tag narrows the hashed bytes.
 */
export function buildRouter(opts: RouterOptions): Picker {
  const hash = typeof opts.hash === "string" ? hashByName(opts.hash) : opts.hash;
  const dist =
    typeof opts.distribution === "string"
      ? distributionByName(opts.distribution)
      : opts.distribution;
  // server_pool_hash: a pool of one, or an empty key, hashes to 0 without calling the hash.
  const nserver = opts.servers.length;
  const guarded: HashFn = (key, start, end) =>
    nserver === 1 || end <= start ? 0 : hash(key, start, end);
  const inner = dist.build(opts.servers, guarded);
  const tag = opts.hashTag;
  let open = -1;
  let close = -1;
  if (tag !== undefined && tag.length > 0) {
    const t = Buffer.from(tag);
    open = t[0];
    close = t[1];
  }
  return {
    live: inner.live,
    pick(key, start, end) {
      // server_pool_idx: a pool of one skips hashing and dispatch entirely (even if ejected).
      if (nserver === 1) return 0;
      if (open >= 0) {
        const [s, e] = hashTagRange(key, start, end, open, close);
        return inner.pick(key, s, e);
      }
      return inner.pick(key, start, end);
    },
  };
}

export type { Distribution, DistributionServer, Picker } from "./types.js";
export { ketama, modula, random };
