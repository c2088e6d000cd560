/**
 * `keepcache import [-o FILE] keepalived.conf`: prints the equivalent keepcache YAML. Lines that
 * do not carry over are listed as YAML comments at the top and, with the reason, on stderr.
 * The result is validated against the native schema so a user sees problems before deploying.
 */
import { writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { parseConfig } from "../config/index.js";
import { fsInclude } from "../config/keepalived/fs-include.js";
import { importKeepalived, type Unmapped } from "../config/keepalived/index.js";
import { readConfigText } from "../config/load.js";
import { ConfigError, UsageError } from "../errors.js";

const USAGE = "usage: keepcache import [-o out.yml] [--no-validate] keepalived.conf";

export function renderImport(
  native: Record<string, unknown>,
  unmapped: Unmapped[],
  source: string,
): string {
  const head = [`# Imported from ${source} by keepcache import.`];
  if (unmapped.length) {
    head.push(`# ${unmapped.length} line(s) were not carried over:`);
    for (const u of unmapped)
      head.push(`#   ${u.file}:${u.line}: ${u.text.replace(/\s+/g, " ")}  -- ${u.why}`);
  }
  return `${head.join("\n")}\n${stringify(native, { lineWidth: 0 })}`;
}

export async function main(argv: string[]): Promise<number> {
  let out: string | undefined;
  let validate = true;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (a === "-o" || a === "--output") {
      out = argv[++i];
      if (!out) throw new UsageError(`${a} needs a file name`);
    } else if (a === "--no-validate") validate = false;
    else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}\n${USAGE}`);
    else files.push(a);
  }
  // `keepcache import keepalived FILE` reads the same as `keepcache import FILE`.
  if (files.length === 2 && files[0] === "keepalived") files.shift();
  if (files.length !== 1) throw new UsageError(USAGE);
  const file = files[0];
  const text = readConfigText(file);
  const { native, unmapped } = importKeepalived(text, file, fsInclude);
  const yamlText = renderImport(native, unmapped, file);
  for (const u of unmapped) process.stderr.write(`${u.file}:${u.line}: not imported: ${u.why}\n`);
  let code = 0;
  if (validate) {
    try {
      parseConfig(yamlText, out ?? "<imported>");
    } catch (err) {
      code = 1;
      const list = (err as { errors?: unknown[] }).errors ?? [err];
      for (const e of list) {
        const msg = e instanceof ConfigError || e instanceof Error ? e.message : String(e);
        process.stderr.write(`imported config does not validate: ${msg}\n`);
      }
    }
  }
  if (out) writeFileSync(out, yamlText);
  else process.stdout.write(yamlText);
  return code;
}
