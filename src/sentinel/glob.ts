/**
 * Redis glob-style pattern matching (util.c stringmatchlen), for PSUBSCRIBE patterns:
 * `*` any run, `?` one character, `[abc]`, `[^a]`, `[a-z]` classes, `\x` a literal x.
 * Iterative with one backtrack point for the last `*`, so a pattern costs
 * O(pattern x subject) at worst, never exponential time.
 */
export function globMatch(pattern: string, subject: string): boolean {
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  while (s < subject.length) {
    if (p < pattern.length && pattern[p] === "*") {
      while (p < pattern.length && pattern[p] === "*") p++;
      if (p === pattern.length) return true;
      starP = p;
      starS = s;
      continue;
    }
    const step = p < pattern.length ? matchOne(pattern, p, subject[s]) : -1;
    if (step > 0) {
      p += step;
      s++;
      continue;
    }
    if (starP < 0) return false;
    p = starP;
    s = ++starS;
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/** Length of the pattern element at p if it matches c, else -1. */
function matchOne(pattern: string, p: number, c: string): number {
  const ch = pattern[p];
  if (ch === "?") return 1;
  if (ch === "\\" && p + 1 < pattern.length) return pattern[p + 1] === c ? 2 : -1;
  if (ch !== "[") return ch === c ? 1 : -1;
  let i = p + 1;
  const not = pattern[i] === "^";
  if (not) i++;
  let hit = false;
  for (; i < pattern.length && pattern[i] !== "]"; i++) {
    if (pattern[i] === "\\" && i + 1 < pattern.length) {
      i++;
      if (pattern[i] === c) hit = true;
    } else if (pattern[i + 1] === "-" && i + 2 < pattern.length && pattern[i + 2] !== "]") {
      let lo = pattern[i];
      let hi = pattern[i + 2];
      if (lo > hi) [lo, hi] = [hi, lo];
      if (c >= lo && c <= hi) hit = true;
      i += 2;
    } else if (pattern[i] === c) hit = true;
  }
  // An unterminated class ends at the pattern's end, as in stringmatchlen.
  const len = (i < pattern.length ? i + 1 : i) - p;
  return hit !== not ? len : -1;
}
