/**
 * A strict parser of the Prometheus text exposition format 0.0.4
 * (prometheus/docs content/docs/instrumenting/exposition_formats.md), for tests: it throws on
 * anything a scraper could reject or misread, including the family rules (TYPE before samples,
 * one TYPE/HELP per family, contiguous families, no duplicate series) and histogram rules
 * (le ascending, cumulative counts non-decreasing, +Inf bucket equal to _count).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  type: string;
  help: string | undefined;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** Values as Prometheus reads them: Go's strconv.ParseFloat (NaN/Inf in any letter case). */
function parseValue(s: string, line: number): number {
  const l = s.toLowerCase();
  if (l === "+inf" || l === "inf" || l === "+infinity" || l === "infinity") {
    return Number.POSITIVE_INFINITY;
  }
  if (l === "-inf" || l === "-infinity") return Number.NEGATIVE_INFINITY;
  if (l === "nan") return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) {
    throw new Error(`line ${line}: bad value '${s}'`);
  }
  return Number(s);
}

function parseSample(text: string, line: number): Sample {
  const m = NAME.exec(text);
  if (!m) throw new Error(`line ${line}: bad metric name in '${text}'`);
  const name = m[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (text[i] === "{") {
    i++;
    while (text[i] !== "}") {
      const lm = LABEL.exec(text.slice(i));
      if (!lm) throw new Error(`line ${line}: bad label name at ${i} in '${text}'`);
      if (lm[0].startsWith("__")) throw new Error(`line ${line}: reserved label ${lm[0]}`);
      i += lm[0].length;
      if (text[i] !== "=" || text[i + 1] !== '"') throw new Error(`line ${line}: expected ="`);
      i += 2;
      let v = "";
      for (;;) {
        const c = text[i];
        if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
        if (c === '"') break;
        if (c === "\\") {
          const n = text[i + 1];
          if (n === "\\") v += "\\";
          else if (n === '"') v += '"';
          else if (n === "n") v += "\n";
          else throw new Error(`line ${line}: bad escape \\${n}`);
          i += 2;
          continue;
        }
        v += c;
        i++;
      }
      i++;
      if (lm[0] in labels) throw new Error(`line ${line}: duplicate label ${lm[0]}`);
      labels[lm[0]] = v;
      if (text[i] === ",") i++;
      else if (text[i] !== "}") throw new Error(`line ${line}: expected , or } at ${i}`);
    }
    i++;
  }
  if (text[i] !== " ") throw new Error(`line ${line}: expected a space before the value`);
  const parts = text.slice(i + 1).split(" ");
  if (parts.length > 2 || parts[0] === "") throw new Error(`line ${line}: bad value part`);
  if (parts.length === 2 && !/^-?\d+$/.test(parts[1]))
    throw new Error(`line ${line}: bad timestamp`);
  return { name, labels, value: parseValue(parts[0], line) };
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sampleName);
  if (direct) return direct;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sampleName.endsWith(suffix)) continue;
    const f = families.get(sampleName.slice(0, -suffix.length));
    if (f && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket"))) return f;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("exposition must end with \\n");
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: Family | undefined;
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n];
    const ln = n + 1;
    if (raw.trim() === "") continue;
    if (raw.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) continue; // a plain comment
      const [, kw, name, rest] = m;
      if (!NAME.test(name) || NAME.exec(name)?.[0] !== name)
        throw new Error(`line ${ln}: bad name ${name}`);
      if (closed.has(name)) throw new Error(`line ${ln}: family ${name} is not contiguous`);
      let f = families.get(name);
      if (!f) {
        f = { name, type: "untyped", help: undefined, samples: [] };
        families.set(name, f);
      }
      if (current && current !== f) closed.add(current.name);
      current = f;
      if (kw === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`line ${ln}: bad type ${rest}`);
        if (f.samples.length > 0) throw new Error(`line ${ln}: TYPE after samples of ${name}`);
        if (f.type !== "untyped") throw new Error(`line ${ln}: second TYPE for ${name}`);
        f.type = rest;
      } else {
        if (f.help !== undefined) throw new Error(`line ${ln}: second HELP for ${name}`);
        f.help = rest;
      }
      continue;
    }
    const s = parseSample(raw, ln);
    let f = familyOf(s.name, families);
    if (!f) {
      f = { name: s.name, type: "untyped", help: undefined, samples: [] };
      families.set(s.name, f);
    }
    if (closed.has(f.name)) throw new Error(`line ${ln}: family ${f.name} is not contiguous`);
    if (current && current !== f) closed.add(current.name);
    current = f;
    if (f.type === "counter" && s.value < 0) throw new Error(`line ${ln}: negative counter`);
    if (f.type === "histogram" && s.name === f.name)
      throw new Error(`line ${ln}: bare histogram sample`);
    const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
    if (series.has(key)) throw new Error(`line ${ln}: duplicate series ${key}`);
    series.add(key);
    f.samples.push(s);
  }
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      g.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
  }
  for (const [key, g] of groups) {
    if (g.count === undefined || g.sum === undefined)
      throw new Error(`${f.name}${key}: no _count/_sum`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i][0] > g.buckets[i - 1][0]))
        throw new Error(`${f.name}${key}: le not ascending`);
      if (g.buckets[i][1] < g.buckets[i - 1][1])
        throw new Error(`${f.name}${key}: counts decrease`);
    }
    const last = g.buckets[g.buckets.length - 1];
    if (!last || last[0] !== Number.POSITIVE_INFINITY)
      throw new Error(`${f.name}${key}: no +Inf bucket`);
    if (last[1] !== g.count) throw new Error(`${f.name}${key}: +Inf bucket != _count`);
  }
}

/** The value of one series, or undefined. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
