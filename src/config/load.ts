/**
 * Reads and validates a config file. YAML is parsed with source positions (the `yaml`
 * package's LineCounter) so that every problem, syntax or schema, becomes a ConfigError naming
 * file, line, key path (`alpha.servers[1]`) and what is allowed. All problems are collected and
 * thrown together as a ConfigErrors.
 */
import { readFile } from "node:fs/promises";
import {
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
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
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const errors: ConfigError[] = [];
  for (const e of doc.errors) {
    const line = lc.linePos(e.pos[0]).line;
    errors.push(new ConfigError(file, line, undefined, e.message.split("\n")[0], { cause: e }));
  }
  if (errors.length) throw new ConfigErrors(file, errors);
  const data = doc.toJS({ maxAliasCount: 100 }) ?? {};
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
  throw new ConfigErrors(file, errors);
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
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigReadError(file, err);
  }
  return parseConfig(text, file);
}
