/**
 * Loads any file keepcache takes as a config: keepcache YAML, a twemproxy nutcracker.yml, or
 * a keepalived.conf, imported on the fly (the mapping `keepcache import` prints). Problems in
 * an imported keepalived.conf are reported at the file and line of the user's statement (an
 * include names the included file), never at a line of generated YAML. `run`, `vrrp` and
 * `check` all load through here, so `check` accepts exactly what the others run.
 */
import { ConfigError } from "../errors.js";
import { fsInclude } from "./keepalived/fs-include.js";
import { importKeepalived, type Unmapped } from "./keepalived/import.js";
import { keywordPath, originOf } from "./keepalived/origin.js";
import { ConfigErrors, formatPath, parseConfig, readConfigText, validateConfig } from "./load.js";
import type { Config } from "./schema/index.js";

/** keepalived.conf, not YAML: its block keywords at the start of a line followed by "{". */
export function looksLikeKeepalived(text: string): boolean {
  return /^\s*(global_defs|vrrp_instance|vrrp_script|vrrp_sync_group|virtual_server|include)\b[^:\n]*(\{|$)/m.test(
    text,
  );
}

/** What loading found besides the config: keepalived.conf lines that do not carry over. */
export interface Loaded {
  config: Config;
  format: "yaml" | "keepalived";
  unmapped: Unmapped[];
}

/**
 * Reads (at most MAX_CONFIG_BYTES, as every config file) and validates `file`. Throws
 * ConfigReadError (unreadable) or ConfigErrors.
 */
export function loadConfigFile(file: string): Loaded {
  const text = readConfigText(file);
  if (!looksLikeKeepalived(text))
    return { config: parseConfig(text, file), format: "yaml", unmapped: [] };
  let imported: ReturnType<typeof importKeepalived>;
  try {
    imported = importKeepalived(text, file, fsInclude);
  } catch (err) {
    // The keepalived.conf does not parse (an unclosed block, an unreadable include).
    if (err instanceof ConfigError) throw new ConfigErrors(file, [err]);
    throw new ConfigErrors(file, [new ConfigError(file, undefined, undefined, String(err))]);
  }
  const { native, unmapped } = imported;
  const config = validateConfig(native, file, (path) => {
    const chain = originOf(native, path);
    const at = chain.at(-1);
    if (!at) return { file, key: formatPath(path) || undefined };
    // The keepcache key is named too: it is what the error message's rule talks about.
    return { file: at.file, line: at.line, key: `${keywordPath(chain)} (${formatPath(path)})` };
  });
  return { config, format: "keepalived", unmapped };
}
