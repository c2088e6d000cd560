/**
 * Reads and validates a config file. YAML is parsed with source positions (the `yaml`
 * package's LineCounter) so that every problem, syntax or schema, becomes a ConfigError naming
 * file, line, key path (`alpha.servers[1]`) and what is allowed. All problems are collected and
 * thrown together as a ConfigErrors.
 */
import { closeSync, openSync, readSync } from "node:fs";
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from "yaml";
import type { z } from "zod";
import { ConfigError, KeepcacheError } from "../errors.js";
import { didYouMean } from "../util/suggest.js";
import { type Config, configSchema, RESERVED_KEYS } from "./schema/index.js";
import { keysAt } from "./schema/json.js";
import { parseServerString } from "./schema/pool.js";

/** Every problem found in one file; `errors` holds them in file order. */
export class ConfigErrors extends KeepcacheError {
  readonly errors: ConfigError[];
  constructor(file: string, errors: ConfigError[]) {
    super(
      "KC_CONFIG_INVALID",
      `${file}: ${errors.length} problem${errors.length === 1 ? "" : "s"}:\n${errors.map((e) => `  ${e.message}`).join("\n")}`,
    );
    this.errors = errors;
  }
}

/** The file could not be read at all. */
export class ConfigReadError extends KeepcacheError {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    super("KC_CONFIG_READ", `${file}: cannot read: ${(cause as Error).message}`, { cause });
    this.file = file;
  }
}

/**
 * Largest config file keepcache reads. twemproxy, keepalived and keepcache configs are
 * kilobytes; YAML's parse tree takes about 50 times the text, so the cap bounds the memory
 * and time a wrong or hostile file can take (a 50 MB file would take gigabytes).
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * How many nodes all aliases of one file may expand to together. An alias is a reference, so
 * nested aliases expand exponentially ("billion laughs", YAML 1.2.2 section 3.2.2.2 allows any
 * number of them); the count bounds the plain data toJS() builds from the tree.
 */
export const MAX_ALIAS_NODES = 10_000;

/** Deepest flow-collection nesting (`[[[...`) accepted; configs nest a few levels. */
export const MAX_FLOW_DEPTH = 64;

/** Most problems listed for one file: a broken file can yield one per byte. */
const MAX_REPORTED = 20;

/**
 * The line where `[` / `{` nesting passes MAX_FLOW_DEPTH, found before parsing: the yaml
 * parser's time and memory grow faster than linearly with flow depth (a megabyte of `[` takes
 * seconds and most of a gigabyte). Quoted text and comments are skipped; a bracket inside a
 * block scalar counts, which can only over-count for text no config holds.
 */
function flowTooDeep(text: string): number | undefined {
  let depth = 0;
  let line = 1;
  let quote = 0;
  // The last character other than a space or tab: a quote opens a scalar only where a scalar
  // can start (line start, after an indicator), never inside a plain scalar ("it's").
  let prev = 0x0a;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) line++;
    if (quote !== 0) {
      if (c === 0x5c && quote === 0x22)
        i++; // backslash escape in "double quotes"
      else if (c === quote) quote = 0;
      continue;
    }
    if (c === 0x20 || c === 0x09) continue;
    if ((c === 0x22 || c === 0x27) && SCALAR_START.includes(prev)) quote = c;
    else if (c === 0x23 && (i === 0 || text.charCodeAt(i - 1) <= 0x20)) {
      const nl = text.indexOf("\n", i);
      i = (nl < 0 ? text.length : nl) - 1;
      continue;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_FLOW_DEPTH) return line;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
    prev = c;
  }
  return undefined;
}

/** Where a quoted scalar can begin: line start, `[ { , : - ?`. */
const SCALAR_START = [0x0a, 0x0d, 0x5b, 0x7b, 0x2c, 0x3a, 0x2d, 0x3f];

/** Reads `file` as UTF-8, refusing more than MAX_CONFIG_BYTES (also from a pipe or device). */
export function readConfigText(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    throw new ConfigReadError(file, err);
  }
  try {
    const buf = Buffer.allocUnsafe(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > MAX_CONFIG_BYTES) {
        throw new ConfigErrors(file, [
          new ConfigError(
            file,
            undefined,
            undefined,
            `is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB, the most a config file may be`,
          ),
        ]);
      }
    }
    return buf.toString("utf8", 0, n);
  } catch (err) {
    if (err instanceof ConfigErrors) throw err;
    throw new ConfigReadError(file, err);
  } finally {
    closeSync(fd);
  }
}

type PathKey = PropertyKey;

/** `alpha.servers[1]`, `vrrp.instances.VI_1.priority`. */
export function formatPath(path: readonly PathKey[]): string {
  let out = "";
  for (const k of path) {
    if (typeof k === "number") out += `[${k}]`;
    else out += out === "" ? String(k) : `.${String(k)}`;
  }
  return out;
}

/** The deepest YAML node along `path` and the line it starts on (1-based). */
function locate(root: Node | null, path: readonly PathKey[], lc: LineCounter): number | undefined {
  let node: unknown = root;
  let line: number | undefined;
  const lineOf = (n: unknown): number | undefined => {
    if (isNode(n) && n.range) return lc.linePos(n.range[0]).line;
    return undefined;
  };
  line = lineOf(node);
  for (const k of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === k);
      if (!pair) break;
      line = lineOf(pair.key) ?? line;
      node = pair.value;
      line = lineOf(node) ?? line;
    } else if (isSeq(node) && typeof k === "number") {
      node = node.items[k];
      line = lineOf(node) ?? line;
    } else break;
  }
  return line;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_value":
      return `must be one of: ${issue.values.map((v) => String(v)).join(", ")}${gotText(issue.input)}`;
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}`;
    case "invalid_type":
      if (issue.input === undefined) return `is required (${issue.expected})`;
      return `must be ${article(issue.expected)}${gotText(issue.input)}`;
    case "custom":
      return issue.message;
    default:
      return `${issue.message}${gotText(issue.input)}`;
  }
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function gotText(v: unknown): string {
  if (v === undefined) return "";
  if (v === null) return " (got an empty value)";
  if (typeof v === "object") return Array.isArray(v) ? " (got a list)" : " (got a mapping)";
  return ` (got ${JSON.stringify(v)})`;
}

/** Where a key path of the validated tree came from: file, line and the key as the user wrote it. */
export type Locate = (path: readonly PathKey[]) => { file: string; line?: number; key?: string };

/** Parses and validates `text`; `file` is used in messages only. Throws ConfigErrors. */
export function parseConfig(text: string, file: string): Config {
  const deep = flowTooDeep(text);
  if (deep !== undefined) {
    throw new ConfigErrors(file, [
      new ConfigError(file, deep, undefined, `[ and { nest more than ${MAX_FLOW_DEPTH} deep`),
    ]);
  }
  const lc = new LineCounter();
  // yaml's uniqueKeys compares each key with every earlier one (quadratic in a map's size);
  // duplicateKeys does the same check with a set.
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  const errors: ConfigError[] = [];
  for (const e of doc.errors.slice(0, MAX_REPORTED)) {
    const line = lc.linePos(e.pos[0]).line;
    errors.push(new ConfigError(file, line, undefined, e.message.split("\n")[0], { cause: e }));
  }
  if (errors.length === 0) errors.push(...duplicateKeys(doc, lc, file));
  if (errors.length) throw new ConfigErrors(file, errors);
  const bomb = aliasBomb(doc, lc, file);
  if (bomb) throw new ConfigErrors(file, [bomb]);
  // aliasBomb bounded the expansion; yaml's own alias counter (a different measure) is off.
  const data = doc.toJS({ maxAliasCount: -1 }) ?? {};
  return validateConfig(data, file, (path) => ({
    file,
    line: locate(doc.contents as Node | null, path, lc),
  }));
}

/**
 * Validates an already-parsed tree (a YAML document's, or one imported from a keepalived.conf);
 * `where` maps each problem's key path to the place the user wrote it. Throws ConfigErrors.
 */
export function validateConfig(data: unknown, file: string, where: Locate): Config {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    const err = new ConfigError(file, 1, undefined, "must be a mapping of pools and sections");
    throw new ConfigErrors(file, [err]);
  }
  if (Object.keys(data).length === 0) {
    // nc_conf.c conf_post_validate: "has no pools"; an empty file configures nothing.
    throw new ConfigErrors(file, [
      new ConfigError(file, 1, undefined, "is empty: define at least one pool or section"),
    ]);
  }
  const res = configSchema.safeParse(data, { reportInput: true });
  if (res.success) return res.data;
  // The cross-entry checks in the schema run only on an otherwise valid file; repeat the
  // commonest (duplicate server names, nc_conf.c conf_validate_server) so it is never hidden.
  const issues = flatten(res.error.issues, []);
  const seenPaths = new Set(issues.map((i) => formatPath(i.path)));
  for (const d of duplicateServers(data as Record<string, unknown>))
    if (!seenPaths.has(formatPath(d.path))) issues.push(d);
  const errors: ConfigError[] = [];
  for (const issue of issues) {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [undefined];
    for (const k of keys) {
      const path = k === undefined ? issue.path : [...issue.path, k];
      const at = where(path);
      const msg = k === undefined ? describeIssue(issue) : unknownKey(k, issue.path);
      errors.push(
        new ConfigError(at.file, at.line, at.key ?? (formatPath(path) || undefined), msg),
      );
    }
  }
  errors.sort((a, b) =>
    a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) : a.file < b.file ? -1 : 1,
  );
  throw new ConfigErrors(file, errors.slice(0, MAX_REPORTED));
}

/** Keys repeated within one mapping (YAML 1.2.2 section 3.2.1.1: keys are unique). */
function duplicateKeys(doc: Document, lc: LineCounter, file: string): ConfigError[] {
  const out: ConfigError[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const k = pair.key.value;
        if (!seen.has(k)) {
          seen.add(k);
          continue;
        }
        const line = pair.key.range ? lc.linePos(pair.key.range[0]).line : undefined;
        if (out.length < MAX_REPORTED)
          out.push(new ConfigError(file, line, String(k), "Map keys must be unique"));
      }
    },
  });
  return out;
}

/**
 * The alias whose expansion takes the file past MAX_ALIAS_NODES, as a ConfigError on its line.
 * One pass in document order (an alias refers to the latest anchor before it, YAML 1.2.2
 * section 7.1), with each anchored node's expanded size computed once.
 */
function aliasBomb(doc: Document, lc: LineCounter, file: string): ConfigError | undefined {
  const anchors = new Map<string, Node>();
  const sizes = new Map<unknown, number>();
  const cap = MAX_ALIAS_NODES + 1;
  // Aliases nest only through anchored nodes, each sized once; the recursion follows the
  // tree's own depth, which the parser has already walked.
  const size = (n: unknown): number => {
    if (isAlias(n)) {
      const target = anchors.get(n.source);
      return target === undefined ? 1 : size(target);
    }
    const known = sizes.get(n);
    if (known !== undefined) return known;
    sizes.set(n, cap); // an alias inside the node it names counts as too large
    let total = 1;
    if (isCollection(n)) {
      for (const item of n.items) {
        total += isPair(item) ? size(item.key) + size(item.value) : size(item);
        if (total >= cap) break;
      }
    }
    total = Math.min(total, cap);
    sizes.set(n, total);
    return total;
  };
  let expanded = 0;
  let found: ConfigError | undefined;
  visit(doc, (_key, node) => {
    if (isNode(node) && !isAlias(node) && node.anchor) anchors.set(node.anchor, node);
    if (!isAlias(node)) return;
    expanded += size(node);
    if (expanded <= MAX_ALIAS_NODES) return;
    const line = node.range ? lc.linePos(node.range[0]).line : undefined;
    found = new ConfigError(
      file,
      line,
      undefined,
      `alias *${node.source} takes the file's aliases past ${MAX_ALIAS_NODES} expanded values (nested aliases grow exponentially); write the values out`,
    );
    return visit.BREAK;
  });
  return found;
}

/**
 * A union failure (a server line vs a replica-set mapping, a name vs {name, weight}) is
 * reported through the branch that matches the value's type, so users see "zero weight", not
 * "Invalid input".
 */
function flatten(issues: z.core.$ZodIssue[], prefix: PropertyKey[]): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const fits = (b: z.core.$ZodIssue[]) =>
        !b.some((i) => i.path.length === 0 && i.code === "invalid_type");
      const branch = issue.errors.find(fits);
      if (branch) {
        out.push(...flatten(branch, path));
        continue;
      }
    }
    out.push({ ...issue, path });
  }
  return out;
}

function duplicateServers(data: Record<string, unknown>): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  const pools: [PathKey[], unknown][] = Object.entries(data)
    .filter(([k]) => !(RESERVED_KEYS as readonly string[]).includes(k))
    .map(([k, v]) => [[k], v]);
  const nested = data.pools;
  if (nested && typeof nested === "object")
    for (const [k, v] of Object.entries(nested)) pools.push([["pools", k], v]);
  for (const [path, pool] of pools) {
    const servers = (pool as { servers?: unknown } | null)?.servers;
    if (!Array.isArray(servers)) continue;
    const seen = new Map<string, number>();
    servers.forEach((s, i) => {
      const parsed = typeof s === "string" ? parseServerString(s) : undefined;
      if (parsed === undefined || typeof parsed === "string") return;
      const prev = seen.get(parsed.key);
      if (prev === undefined) seen.set(parsed.key, i);
      else
        out.push({
          code: "custom",
          input: s,
          path: [...path, "servers", i],
          message: `pool '${String(path[path.length - 1])}' has servers with same name '${parsed.key}' (also servers[${prev}])`,
        });
    });
  }
  return out;
}

/** "unknown key 'hash_tags' (did you mean hash_tag?)", with the keys the schema allows there. */
function unknownKey(key: string, path: readonly PathKey[]): string {
  // A top-level pool's unknown key is the one twemproxy would refuse too.
  const pool = path.length === 1 && !(RESERVED_KEYS as readonly string[]).includes(String(path[0]));
  return `unknown key '${key}'${didYouMean(key, keysAt(path))}${pool ? " (not a twemproxy pool directive)" : ""}`;
}

/** Reads `file` and parses it. Throws ConfigReadError (unreadable) or ConfigErrors. */
export async function loadConfig(file: string): Promise<Config> {
  return parseConfig(readConfigText(file), file);
}
