/**
 * "Did you mean" for misspelt words: keepalived keywords (deploy_loop → delay_loop), YAML keys
 * (hash_tags → hash_tag) and command-line flags (--conf → --conf-file).
 */

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The closest known keyword within 2 edits, or undefined. */
export function suggest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(word, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

/** " (did you mean X?)" for the closest known word, or "". */
export function didYouMean(word: string, known: Iterable<string>): string {
  const s = suggest(word, known);
  return s ? ` (did you mean ${s}?)` : "";
}

export function unknown(what: string, word: string, known: Iterable<string>): string {
  return `unknown ${what} keyword "${word}"${didYouMean(word, known)}`;
}
