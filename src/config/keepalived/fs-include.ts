/** keepalived's `include` from the file system: the IncludeReader the CLI hands the parser. */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import type { IncludeReader } from "./parse.js";

/** keepalived's include takes a glob; * and ? in the last component are enough in practice. */
export const fsInclude: IncludeReader = (pattern, from) => {
  const full = isAbsolute(pattern) ? pattern : join(dirname(from), pattern);
  const dir = dirname(full);
  const base = basename(full);
  if (!/[*?]/.test(base)) return [[full, readFileSync(full, "utf8")]];
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f): [string, string] => [join(dir, f), readFileSync(join(dir, f), "utf8")]);
};
