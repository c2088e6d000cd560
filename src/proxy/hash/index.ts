/**
 * The twemproxy hash functions by their config names (nc_hashkit.h HASH_CODEC). Each takes
 * key[start..end) and returns a uint32 identical to nutcracker 0.5.0's.
 */
import { hashCrc16 } from "./crc16.js";
import { hashCrc32 } from "./crc32.js";
import { hashCrc32a } from "./crc32a.js";
import { hashFnv1_32 } from "./fnv1_32.js";
import { hashFnv1_64 } from "./fnv1_64.js";
import { hashFnv1a_32 } from "./fnv1a_32.js";
import { hashFnv1a_64 } from "./fnv1a_64.js";
import { hashHsieh } from "./hsieh.js";
import { hashJenkins } from "./jenkins.js";
import { hashMd5 } from "./md5.js";
import { hashMurmur } from "./murmur.js";
import { hashOneAtATime } from "./one_at_a_time.js";
import type { HashFn } from "./types.js";

export const HASH_FUNCTIONS = {
  one_at_a_time: hashOneAtATime,
  md5: hashMd5,
  crc16: hashCrc16,
  crc32: hashCrc32,
  crc32a: hashCrc32a,
  fnv1_64: hashFnv1_64,
  fnv1a_64: hashFnv1a_64,
  fnv1_32: hashFnv1_32,
  fnv1a_32: hashFnv1a_32,
  hsieh: hashHsieh,
  murmur: hashMurmur,
  jenkins: hashJenkins,
} as const satisfies Record<string, HashFn>;

export type HashFunctionName = keyof typeof HASH_FUNCTIONS;

/** The hash named `name` in a config; throws RangeError for an unknown name. */
export function hashByName(name: string): HashFn {
  const fn = (HASH_FUNCTIONS as Record<string, HashFn>)[name];
  if (!fn)
    throw new RangeError(
      `unknown hash '${name}'; one of: ${Object.keys(HASH_FUNCTIONS).join(", ")}`,
    );
  return fn;
}

export type { HashFn } from "./types.js";
export {
  hashCrc16,
  hashCrc32,
  hashCrc32a,
  hashFnv1_32,
  hashFnv1_64,
  hashFnv1a_32,
  hashFnv1a_64,
  hashHsieh,
  hashJenkins,
  hashMd5,
  hashMurmur,
  hashOneAtATime,
};
