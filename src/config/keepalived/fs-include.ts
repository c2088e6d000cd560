/** keepalived's `include` from the file system: the IncludeReader the CLI hands the parser. */
import { readdirSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { readConfigText } from "../load.js";
import type { IncludeReader } from "./parse.js";

/**
 * keepalived's include takes a glob; * and ? in the last component are enough in practice.
 * Each file is read with the config size cap (readConfigText).
 */
export const fsInclude: IncludeReader = (pattern, from) => {
  const full = isAbsolute(pattern) ? pattern : join(dirname(from), pattern);
  const dir = dirname(full);
  const base = basename(full);
  if (!/[*?]/.test(base)) return [[full, readConfigText(full)]];
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f): [string, string] => [join(dir, f), readConfigText(join(dir, f))]);
};
