/**
 * Merges other processes' /metrics into this one's (`keepcache up` shows its member nodes'
 * metrics, labelled by node). Text in, text out, per the exposition format 0.0.4
 * (prometheus/docs exposition_formats.md): a family is its `# HELP`/`# TYPE` lines and the
 * samples after them; the same family from several processes is written once, with every
 * process's samples, so the result has one TYPE per family as scrapers require.
 */
import type { Labels } from "./registry.js";

interface Family {
  help: string | undefined;
  type: string | undefined;
  samples: string[];
}

/** The family a sample line belongs to is the last one declared above it. */
function parse(text: string, into: Map<string, Family>, relabel?: (line: string) => string): void {
  let cur: Family | undefined;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta !== null) {
      const [, kind, name] = meta;
      cur = into.get(name);
      if (cur === undefined) {
        cur = { help: undefined, type: undefined, samples: [] };
        into.set(name, cur);
      }
      if (kind === "HELP") cur.help ??= line;
      else cur.type ??= line;
      continue;
    }
    if (line.startsWith("#")) continue;
    if (cur === undefined) {
      cur = { help: undefined, type: undefined, samples: [] };
      into.set(`\0${into.size}`, cur);
    }
    cur.samples.push(relabel ? relabel(line) : line);
  }
}

/** `"` `\` and newline escaped as in the exposition format. */
function escapeValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * A sample line with `labels` set: replaced where the line has them, else added first.
 * Label values may hold any character, escaped; the scan follows the quotes.
 */
export function setLabels(line: string, labels: Labels): string {
  const brace = line.search(/[{ ]/);
  const name = brace < 0 ? line : line.slice(0, brace);
  const pairs: [string, string][] = [];
  let i = name.length;
  if (line[i] === "{") {
    i++;
    while (i < line.length && line[i] !== "}") {
      const eq = line.indexOf("=", i);
      const key = line.slice(i, eq).replace(/^[,\s]+/, "");
      let j = eq + 2; // past ="
      let raw = "";
      while (j < line.length && line[j] !== '"') {
        if (line[j] === "\\") {
          raw += line.slice(j, j + 2);
          j += 2;
        } else raw += line[j++];
      }
      pairs.push([key, raw]);
      i = j + 1;
      if (line[i] === ",") i++;
    }
    i++; // past }
  }
  const rest = line.slice(i);
  const out: string[] = [];
  const given = new Set(Object.keys(labels));
  for (const k of Object.keys(labels)) {
    if (!pairs.some(([pk]) => pk === k)) out.push(`${k}="${escapeValue(labels[k])}"`);
  }
  for (const [k, raw] of pairs) {
    out.push(given.has(k) ? `${k}="${escapeValue(labels[k])}"` : `${k}="${raw}"`);
  }
  return `${name}{${out.join(",")}}${rest}`;
}

/** `own` with each of `others` merged in, its samples labelled with its labels. */
export function mergeExpositions(own: string, others: { labels: Labels; text: string }[]): string {
  const fams = new Map<string, Family>();
  parse(own, fams);
  for (const o of others) parse(o.text, fams, (line) => setLabels(line, o.labels));
  const out: string[] = [];
  for (const f of fams.values()) {
    if (f.help !== undefined) out.push(f.help);
    if (f.type !== undefined) out.push(f.type);
    out.push(...f.samples);
  }
  return `${out.join("\n")}\n`;
}
