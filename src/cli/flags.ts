/**
 * Flag parsing shared by the subcommands: node:util parseArgs in strict mode, no positional
 * arguments, and every problem (unknown flag, missing value, stray argument) reported as a
 * UsageError carrying the subcommand's usage text, which main.ts prints before exiting 2.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "../errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseFlags<const O extends Options>(argv: string[], options: O, usage: string) {
  try {
    const p = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    if (p.positionals.length > 0) throw new Error(`unexpected argument '${p.positionals[0]}'`);
    return p.values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${usage}`);
  }
}

/** The log level `-v` (debug) or `-vv` (trace) asks for; undefined without -v. */
export function verboseLevel(count: number): "debug" | "trace" | undefined {
  return count > 1 ? "trace" : count > 0 ? "debug" : undefined;
}

/**
 * The level of every logger of the process (and of its worker processes, which take the
 * primary's level at fork): -v/-vv, else KEEPCACHE_LOG_LEVEL (the operator's override of the
 * file), else the config's `log.level`, else info.
 */
export function logLevel(verbosity: number, fileLevel: string | undefined, env = process.env) {
  return verboseLevel(verbosity) ?? (env.KEEPCACHE_LOG_LEVEL || fileLevel || "info");
}
