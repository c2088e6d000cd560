/**
 * Shapes shared by the RESP parser, the command table and the key-position logic. Types only,
 * so that parser.ts, commands.ts and multikey.ts can all depend on it without import cycles.
 */

/** Key-spec begin_search, as Redis 7 COMMAND reports it (redis src/server.h keySpec). */
export type BeginSearch =
  | { type: "index"; index: number }
  | { type: "keyword"; keyword: string; startfrom: number }
  | { type: "unknown" };

/** Key-spec find_keys, as Redis 7 COMMAND reports it (redis src/server.h keySpec). */
export type FindKeys =
  | { type: "range"; lastkey: number; keystep: number; limit: number }
  | { type: "keynum"; keynumidx: number; firstkey: number; keystep: number }
  | { type: "unknown" };

export interface RawKeySpec {
  /** Lower-case key-spec flags: ro, rw, ow, rm, access, update, insert, delete, not_key, incomplete, variable_flags. */
  flags: string[];
  bs: BeginSearch;
  fk: FindKeys;
}

/** One command or subcommand ("config|get") from Redis' COMMAND reply. */
export interface RawCommand {
  name: string;
  arity: number;
  flags: string[];
  firstKey: number;
  lastKey: number;
  step: number;
  tips: string[];
  keySpecs: RawKeySpec[];
}

/**
 * A parsed command's arguments as byte ranges: argument i is buf[argStart[i], argEnd[i]).
 * The parser's request object satisfies it; so can anything a test builds.
 */
export interface ArgView {
  buf: Buffer;
  argc: number;
  argStart: number[];
  argEnd: number[];
}
