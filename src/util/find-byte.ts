/**
 * The first `byte` in b[from, end), or -1. Buffer#indexOf crosses into C++ (a JS wrapper and a
 * fast API call); for the short lines that are most protocol lines ("$3\r\n", "get k\r\n") a
 * loop is cheaper. Longer searches fall back to indexOf.
 */
const SHORT_SCAN = 64;

export function findByte(b: Buffer, byte: number, from: number, end: number): number {
  const stop = Math.min(end, from + SHORT_SCAN);
  for (let i = from; i < stop; i++) if (b[i] === byte) return i;
  if (stop >= end) return -1;
  const at = b.indexOf(byte, stop);
  return at < 0 || at >= end ? -1 : at;
}
