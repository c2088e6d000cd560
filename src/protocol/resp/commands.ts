/**
 * Redis' own command table (generated into commands-table.ts from a real redis-server's
 * COMMAND reply) turned into numeric ids, flag bits and byte lookups for the proxy hot path.
 * Key positions live in key-positions.ts.
 */
import type { RawCommand, RawKeySpec } from "./command-types.js";
import { RAW_COMMANDS } from "./commands-table.js";
import { NameTable } from "./name-table.js";

/** Command flag bits (names as COMMAND reports them; redis src/commands.def / server.h CMD_*). */
export const CmdFlag = {
  write: 1 << 0,
  readonly: 1 << 1,
  denyoom: 1 << 2,
  admin: 1 << 3,
  pubsub: 1 << 4,
  noscript: 1 << 5,
  blocking: 1 << 6,
  loading: 1 << 7,
  stale: 1 << 8,
  fast: 1 << 9,
  movablekeys: 1 << 10,
  no_auth: 1 << 11,
  skip_monitor: 1 << 12,
  skip_slowlog: 1 << 13,
  no_multi: 1 << 14,
  allow_busy: 1 << 15,
  no_async_loading: 1 << 16,
  no_mandatory_keys: 1 << 17,
  asking: 1 << 18,
} as const;
export type CmdFlagName = keyof typeof CmdFlag;

export interface CommandInfo {
  readonly id: number;
  /** Lower-case; subcommands are "parent|sub" as in COMMAND. */
  readonly name: string;
  /** Redis arity: N exact argument count (name included), -N at least N. */
  readonly arity: number;
  readonly flags: number;
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  readonly tips: readonly string[];
  readonly keySpecs: readonly RawKeySpec[];
  /** Id of the container command for a subcommand, else -1. */
  readonly parent: number;
  /** True for containers such as CONFIG, OBJECT, XINFO, whose argv[1] names a subcommand. */
  readonly hasSubcommands: boolean;
}

function flagBits(raw: RawCommand): number {
  let bits = 0;
  for (const f of raw.flags) bits |= (CmdFlag as Record<string, number>)[f] ?? 0;
  return bits;
}

function build(raw: readonly RawCommand[]): { list: CommandInfo[]; table: NameTable } {
  const byName = new Map<string, number>();
  raw.forEach((c, id) => {
    byName.set(c.name, id);
  });
  const containers = new Set<number>();
  const list = raw.map((c, id): CommandInfo => {
    const bar = c.name.indexOf("|");
    const parent = bar < 0 ? -1 : (byName.get(c.name.slice(0, bar)) ?? -1);
    if (parent >= 0) containers.add(parent);
    return {
      id,
      name: c.name,
      arity: c.arity,
      flags: flagBits(c),
      firstKey: c.firstKey,
      lastKey: c.lastKey,
      step: c.step,
      tips: c.tips,
      keySpecs: c.keySpecs,
      parent,
      hasSubcommands: false,
    };
  });
  for (const id of containers) list[id] = { ...list[id], hasSubcommands: true };
  // Top-level names use seed 0; a subcommand is found by its own name under seed parent+1.
  const entries = list.map((c): [number, string, number] =>
    c.parent < 0 ? [0, c.name, c.id] : [c.parent + 1, c.name.slice(c.name.indexOf("|") + 1), c.id],
  );
  return { list, table: new NameTable(entries) };
}

const built = build(RAW_COMMANDS);
/** Every command and subcommand, indexed by id. */
export const COMMANDS: readonly CommandInfo[] = built.list;
const table = built.table;

/** Id of the top-level command named by buf[start, end) in any case, or -1 if unknown. */
export function lookupCommand(buf: Uint8Array, start: number, end: number): number {
  return table.lookup(0, buf, start, end);
}

/** Id of subcommand buf[start, end) of container `parent`, or -1. */
export function lookupSubcommand(
  parent: number,
  buf: Uint8Array,
  start: number,
  end: number,
): number {
  return parent < 0 ? -1 : table.lookup(parent + 1, buf, start, end);
}

/** Id by name: "get", "CONFIG|GET" or "config get"; -1 if unknown. Not for the hot path. */
export function commandId(name: string): number {
  const parts = name.toLowerCase().split(/[|\s]+/);
  const top = Buffer.from(parts[0], "latin1");
  const id = lookupCommand(top, 0, top.length);
  if (parts.length === 1 || id < 0) return id;
  const sub = Buffer.from(parts[1], "latin1");
  return lookupSubcommand(id, sub, 0, sub.length);
}

export function commandInfo(id: number): CommandInfo | undefined {
  return id >= 0 ? COMMANDS[id] : undefined;
}

/** The command's arity accepts argc arguments (name included), as redis' processCommand checks. */
export function arityOk(id: number, argc: number): boolean {
  const c = COMMANDS[id];
  if (c === undefined) return false;
  return c.arity >= 0 ? argc === c.arity : argc >= -c.arity;
}

export function hasFlag(id: number, flag: number): boolean {
  const c = COMMANDS[id];
  return c !== undefined && (c.flags & flag) !== 0;
}

export const isReadOnly = (id: number): boolean => hasFlag(id, CmdFlag.readonly);
export const isWrite = (id: number): boolean => hasFlag(id, CmdFlag.write);
export const isBlocking = (id: number): boolean => hasFlag(id, CmdFlag.blocking);
export const isPubSub = (id: number): boolean => hasFlag(id, CmdFlag.pubsub);
export const isAdmin = (id: number): boolean => hasFlag(id, CmdFlag.admin);
export const isMovableKeys = (id: number): boolean => hasFlag(id, CmdFlag.movablekeys);

const TRANSACTION = new Set(
  ["multi", "exec", "discard", "watch", "unwatch"].map((n) => commandId(n)),
);
/** MULTI/EXEC/DISCARD/WATCH/UNWATCH: connection-state commands a sharding proxy must pin or refuse. */
export const isTransaction = (id: number): boolean => id >= 0 && TRANSACTION.has(id);

/** Ids the proxy switches on; resolved once from the table. */
export const Cmd = {
  GET: commandId("get"),
  MGET: commandId("mget"),
  MSET: commandId("mset"),
  MSETNX: commandId("msetnx"),
  DEL: commandId("del"),
  UNLINK: commandId("unlink"),
  EXISTS: commandId("exists"),
  TOUCH: commandId("touch"),
  PING: commandId("ping"),
  QUIT: commandId("quit"),
  SELECT: commandId("select"),
  AUTH: commandId("auth"),
  HELLO: commandId("hello"),
  SORT: commandId("sort"),
  SORT_RO: commandId("sort_ro"),
  MIGRATE: commandId("migrate"),
} as const;
