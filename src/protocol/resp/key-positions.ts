/**
 * Which arguments of a request are keys, from Redis' own key specs (redis 7.0 src/db.c
 * getKeysUsingKeySpecs), plus the two commands whose specs are incomplete and which redis
 * resolves with a getkeys proc: SORT/SORT_RO (db.c sortGetKeys) and MIGRATE (migrateGetKeys).
 */
import type { ArgView, RawKeySpec } from "./command-types.js";
import { Cmd, COMMANDS, lookupSubcommand } from "./commands.js";
import { parseLL } from "./int.js";

/** Arguments do not fit the command's key specs (redis would answer a syntax/arity error). */
export const KEYS_INVALID = -1;
/** We cannot tell the keys (unknown command, or a spec redis itself marks unknown). */
export const KEYS_UNSUPPORTED = -2;

/** For a container (CONFIG, OBJECT, XINFO...) the subcommand named by argv[1], else cmd itself. */
export function effectiveCommand(cmd: number, req: ArgView): number {
  const c = COMMANDS[cmd];
  if (c === undefined || !c.hasSubcommands || req.argc < 2) return cmd;
  const sub = lookupSubcommand(cmd, req.buf, req.argStart[1], req.argEnd[1]);
  return sub < 0 ? cmd : sub;
}

/** Case-insensitive compare of argument i with an upper-case ASCII word. */
function argIs(req: ArgView, i: number, word: string): boolean {
  const s = req.argStart[i];
  if (req.argEnd[i] - s !== word.length) return false;
  for (let k = 0; k < word.length; k++) {
    const b = req.buf[s + k];
    if ((b >= 0x61 && b <= 0x7a ? b - 0x20 : b) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** Argument i as a redis long long (util.c string2ll), NaN if it is not one. */
export function argInteger(req: ArgView, i: number): number {
  return parseLL(req.buf, req.argStart[i], req.argEnd[i]);
}

/** Appends the key indexes of one spec; returns false when the spec does not fit argv. */
/**
 * Keys found so far by the keyPositions() call in progress (it is not re-entered). `out` is
 * written by index and never shortened: `out.length = 0` makes V8 drop the backing store
 * (a trimmed FixedArray), so every request would allocate a new one on its first push.
 * Entries at and after `count` are stale; callers read only the count returned.
 */
let count = 0;

function put(out: number[], k: number): void {
  out[count++] = k;
}

function fromSpec(spec: RawKeySpec, req: ArgView, arity: number, out: number[]): boolean {
  const argc = req.argc;
  let first = 0;
  const bs = spec.bs;
  if (bs.type === "index") first = bs.index;
  else if (bs.type === "keyword") {
    // Search forward from startfrom, or backward from argc+startfrom when negative; the
    // keyword never matches the last argument (forward) or argv[0] (backward).
    const from = bs.startfrom > 0 ? bs.startfrom : argc + bs.startfrom;
    const to = bs.startfrom > 0 ? argc - 1 : 0;
    for (let i = from; i !== to; i = from <= to ? i + 1 : i - 1) {
      if (i >= argc || i < 1) break;
      if (argIs(req, i, bs.keyword)) {
        first = i + 1;
        break;
      }
    }
    if (first === 0) return true; // optional keyword absent: no keys from this spec
  } else return false;

  let last: number;
  let step: number;
  const fk = spec.fk;
  if (fk.type === "range") {
    step = fk.keystep;
    if (fk.lastkey >= 0) last = first + fk.lastkey;
    else if (fk.limit === 0) last = argc + fk.lastkey;
    else last = first + (Math.trunc((argc - first) / fk.limit) + fk.lastkey);
  } else if (fk.type === "keynum") {
    step = fk.keystep;
    if (first + fk.keynumidx >= argc) return false;
    const n = argInteger(req, first + fk.keynumidx);
    if (!(n >= 0)) return false;
    first += fk.firstkey;
    if (n === 0) return true; // e.g. EVAL script 0
    last = first + n - 1;
  } else return false;

  if (last >= argc || last < first || first >= argc) return false;
  for (let i = first; i <= last; i += step) {
    // Variadic commands are not arity-checked per key: a short argv is the command's error.
    if (i >= argc) {
      if (arity < 0) continue;
      return false;
    }
    put(out, i);
  }
  return true;
}

/** SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dst] (db.c sortGetKeys). */
function sortKeys(req: ArgView, out: number[]): number {
  put(out, 1);
  let store = -1;
  for (let i = 2; i < req.argc; i++) {
    if (argIs(req, i, "LIMIT")) i += 2;
    else if (argIs(req, i, "GET") || argIs(req, i, "BY")) i += 1;
    else if (argIs(req, i, "STORE") && i + 1 < req.argc) {
      store = i + 1; // the last STORE wins, as in redis
      i += 1;
    }
  }
  if (store >= 0) put(out, store);
  return count;
}

/** MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH..] [KEYS k...] (migrateGetKeys). */
function migrateKeys(req: ArgView, out: number[]): number {
  if (req.argEnd[3] > req.argStart[3]) {
    put(out, 3);
    return 1;
  }
  for (let i = 6; i < req.argc; i++) {
    if (argIs(req, i, "AUTH")) i += 1;
    else if (argIs(req, i, "AUTH2")) i += 2;
    else if (argIs(req, i, "KEYS")) {
      for (let k = i + 1; k < req.argc; k++) put(out, k);
      return count;
    }
  }
  return 0;
}

/**
 * Writes the indexes of req's key arguments into out[0..n) (in spec order, duplicates kept) and
 * returns how many, or KEYS_INVALID / KEYS_UNSUPPORTED. `cmd` may be a container id: its
 * subcommand is resolved from argv[1]. Keys flagged not_key (not real keys) are skipped.
 */
export function keyPositions(cmd: number, req: ArgView, out: number[]): number {
  count = 0;
  cmd = effectiveCommand(cmd, req);
  const c = COMMANDS[cmd];
  if (c === undefined) return KEYS_UNSUPPORTED;
  if (req.argc < 2 || (c.arity >= 0 ? req.argc !== c.arity : req.argc < -c.arity)) {
    return c.keySpecs.length === 0 ? 0 : KEYS_INVALID;
  }
  if (cmd === Cmd.SORT || cmd === Cmd.SORT_RO) return sortKeys(req, out);
  if (cmd === Cmd.MIGRATE) return migrateKeys(req, out);
  if (firstArgOnly(cmd, c.keySpecs)) {
    // argc >= 2 (checked above): what fromSpec finds for this one spec, without reading it.
    out[0] = 1;
    count = 1;
    return 1;
  }
  for (const spec of c.keySpecs) {
    if (spec.flags.includes("not_key")) continue;
    if (!fromSpec(spec, req, c.arity, out)) {
      count = 0;
      return spec.bs.type === "unknown" || spec.fk.type === "unknown"
        ? KEYS_UNSUPPORTED
        : KEYS_INVALID;
    }
  }
  return count;
}

/**
 * Per command id: 1 when its one key spec names argv[1] alone (GET, SET, INCR and most
 * single-key commands: begin_search index 1, find_keys range lastkey 0), 2 otherwise, 0 not yet
 * known. Such a command's key is then found without interpreting its spec on every request.
 */
const FIRST_ARG_ONLY = new Uint8Array(COMMANDS.length);

function firstArgOnly(cmd: number, specs: readonly RawKeySpec[]): boolean {
  let v = FIRST_ARG_ONLY[cmd];
  if (v === 0) {
    const s = specs.length === 1 ? specs[0] : undefined;
    const one =
      s !== undefined &&
      !s.flags.includes("not_key") &&
      s.bs.type === "index" &&
      s.bs.index === 1 &&
      s.fk.type === "range" &&
      s.fk.lastkey === 0;
    v = one ? 1 : 2;
    FIRST_ARG_ONLY[cmd] = v;
  }
  return v === 1;
}

/** Convenience (allocates): the key indexes, or "invalid" / "unsupported". */
export function keyIndexes(cmd: number, req: ArgView): number[] | "invalid" | "unsupported" {
  const out: number[] = [];
  const n = keyPositions(cmd, req, out);
  if (n === KEYS_INVALID) return "invalid";
  if (n === KEYS_UNSUPPORTED) return "unsupported";
  return out.slice(0, n);
}
