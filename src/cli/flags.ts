/**
 * Flag parsing shared by the subcommands: node:util parseArgs in strict mode, no positional
 * arguments, and every problem (unknown flag, missing value, stray argument) reported as a
 * UsageError carrying the subcommand's usage text, which main.ts prints before exiting 2. An
 * unknown flag gets the closest known one ("did you mean --conf-file?").
 *
 * A subcommand may also accept the flags of the program it replaces (memcached's for `node`,
 * nutcracker's for `run`) so an existing init script or unit works after renaming the binary:
 * those it does not act on are parsed like any other flag and then named in a warning with the
 * reason, never silently dropped.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import { didYouMean } from "../util/suggest.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Another program's flag: parsed like ours; `ignored` is the warning's reason when given. */
export type CompatFlag = Options[string] & { ignored?: string };
export type CompatFlags = Record<string, CompatFlag>;

export function parseFlags<
  const O extends Options,
  const C extends CompatFlags = Record<never, never>,
>(argv: string[], options: O, usage: string, compat?: { flags: C; warn?: (msg: string) => void }) {
  const all = { ...options, ...compat?.flags };
  const definitions: Options = {};
  for (const [name, { ignored: _ignored, ...def }] of Object.entries(all)) definitions[name] = def;
  let values: Record<string, unknown>;
  try {
    const p = parseArgs({ args: argv, options: definitions, strict: true, allowPositionals: true });
    if (p.positionals.length > 0) throw new Error(`unexpected argument '${p.positionals[0]}'`);
    values = p.values;
  } catch (err) {
    throw new UsageError(`${describe(err as Error & { code?: string }, definitions)}\n\n${usage}`);
  }
  const warn = compat?.warn ?? ((m: string) => process.stderr.write(`keepcache: warning: ${m}\n`));
  for (const [name, def] of Object.entries(compat?.flags ?? {})) {
    if (def.ignored === undefined || values[name] === undefined) continue;
    const flag = def.short ? `-${def.short}/--${name}` : `--${name}`;
    const v = values[name];
    const given = typeof v === "string" ? ` ${v}` : Array.isArray(v) ? ` ${v.join(" ")}` : "";
    warn(`${flag}${given} ignored: ${def.ignored}`);
  }
  return values as ReturnType<typeof parseArgs<{ options: O & C; strict: true }>>["values"];
}

/** parseArgs' message for an unknown option, with the closest flag this command knows. */
function describe(err: Error & { code?: string }, options: Options): string {
  if (err.code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") return err.message;
  const flag = /'([^']+)'/.exec(err.message)?.[1] ?? "";
  const known = Object.entries(options).flatMap(([n, d]) =>
    d.short ? [`--${n}`, `-${d.short}`] : [`--${n}`],
  );
  // A long flag is compared with long ones only: "-c" should not suggest "-p".
  const word = flag.split("=")[0];
  const pool = known.filter((k) => k.startsWith("--") === word.startsWith("--"));
  // A cut-short long flag (--conf for --conf-file) is further than 2 edits from it.
  const longer = word.length > 3 ? pool.filter((k) => k.startsWith(word)) : [];
  const hint = longer.length === 1 ? ` (did you mean ${longer[0]}?)` : didYouMean(word, pool);
  return `unknown option '${flag}'${hint}`;
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
