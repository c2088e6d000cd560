import { UsageError } from "../errors.js";

/** Parses memcached-style sizes: "1m", "512k", "2g", "1048576" (bytes). */
export function parseSize(flag: string, text: string): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: '${text}' is not a size (examples: 1048576, 512k, 1m)`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as "" | "k"]!;
  return Number(m[1]) * mult;
}

/** Parses a whole number within [min, max]; names the flag and the range on failure. */
export function parseIntFlag(flag: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text.trim()))
    throw new UsageError(`${flag}: '${text}' is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${flag}: ${n} is out of range (${min}-${max})`);
  return n;
}

/** Parses a duration: "500ms", "2s", "1m" or a bare number of milliseconds. */
export function parseDurationMs(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: '${text}' is not a duration (examples: 500ms, 2s)`);
  const mult = { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? "ms") as "ms"];
  return Math.round(Number(m[1]) * mult);
}
