/**
 * What the proxy does with commands that have no key to route by, and the error texts for
 * commands it refuses. Keyed commands are routed from the command table (planner.ts); this
 * file only names the exceptions, by Redis' own command names and flags (commands.ts).
 */
import type { ArgView } from "../../protocol/resp/command-types.js";
import { CmdFlag, COMMANDS, commandId, hasFlag } from "../../protocol/resp/commands.js";
import { errorReply } from "../../protocol/resp/encoder.js";

/** How a keyless command is served by a pool of several servers. */
export const Keyless = {
  /** Sent to every server, replies merged (see mergers.ts for each kind). */
  BroadcastOk: 1,
  BroadcastSum: 2,
  BroadcastFirstNonNull: 3,
  BroadcastSame: 4,
  BroadcastInfo: 5,
  /** Server-independent: any one server answers the same. */
  Any: 6,
} as const;
export type Keyless = (typeof Keyless)[keyof typeof Keyless];

function ids(names: string[]): number[] {
  return names.map((n) => {
    const id = commandId(n);
    // The table is generated from redis 7.0; a missing name is a typo here, not a runtime case.
    if (id < 0) throw new Error(`policy names unknown redis command '${n}'`);
    return id;
  });
}

const KEYLESS = new Map<number, Keyless>();
for (const id of ids(["flushall", "flushdb", "script|flush"])) KEYLESS.set(id, Keyless.BroadcastOk);
for (const id of ids(["dbsize"])) KEYLESS.set(id, Keyless.BroadcastSum);
for (const id of ids(["randomkey"])) KEYLESS.set(id, Keyless.BroadcastFirstNonNull);
// Every server answers SCRIPT LOAD with the same SHA1: load everywhere so EVALSHA works on any.
for (const id of ids(["script|load"])) KEYLESS.set(id, Keyless.BroadcastSame);
for (const id of ids(["info"])) KEYLESS.set(id, Keyless.BroadcastInfo);
for (const id of ids([
  "command",
  "command|count",
  "command|docs",
  "command|getkeys",
  "command|getkeysandflags",
  "command|info",
  "command|list",
  "command|help",
  "time",
  "lolwut",
  // Servers of one pool share a config in practice; reading one server's is what tools such as
  // redis-benchmark (CONFIG GET save / appendonly at start) expect from a Redis endpoint.
  "config|get",
])) {
  KEYLESS.set(id, Keyless.Any);
}

/** How a keyless command (after subcommand resolution) is served, or undefined: refuse it. */
export function keylessKind(id: number): Keyless | undefined {
  return KEYLESS.get(id);
}

/** Why a keyless command cannot be served by a sharded pool (top-level names). */
const REASONS = new Map<number, string>([
  ...ids(["keys"]).map((id): [number, string] => [
    id,
    "keys are spread over several servers; send it to each server directly",
  ]),
  ...ids(["scan"]).map((id): [number, string] => [
    id,
    "a SCAN cursor cannot span several servers; scan each server directly",
  ]),
  ...ids(["wait"]).map((id): [number, string] => [
    id,
    "it waits for the replicas of one server, and this pool has several; send it to the server directly",
  ]),
  ...ids(["script|kill", "function|kill"]).map((id): [number, string] => [
    id,
    "it must reach the one server running the script, and this pool has several; send it to that server directly",
  ]),
  ...ids(["client|tracking", "client|caching", "client|no-evict", "client|reply"]).map(
    (id): [number, string] => [
      id,
      "it sets state on one server connection, and this pool has several servers",
    ],
  ),
  ...ids(["cluster", "readonly", "readwrite", "asking"]).map((id): [number, string] => [
    id,
    "keepcache proxy is not a Redis Cluster node",
  ]),
  ...ids(["monitor"]).map((id): [number, string] => [
    id,
    "it would show one server's commands only, and this pool has several; send it to each server directly",
  ]),
  ...ids(["sync", "psync"]).map((id): [number, string] => [
    id,
    "it takes over the server connection for a replication stream; replicate from the server directly",
  ]),
  ...ids(["swapdb", "move", "copy"]).map((id): [number, string] => [
    id,
    "the proxy serves one database per pool (redis_db)",
  ]),
]);

/**
 * Commands that turn a connection into a replication stream: refused even by a single-server
 * pool (subscriber mode and MONITOR get a dedicated connection instead: dedicated.ts).
 */
const TAKEOVER = new Set(ids(["sync", "psync"]));

/** Commands a single-server pool must still refuse, or undefined to pass it through. */
export function singleServerRefusal(id: number): string | undefined {
  return TAKEOVER.has(id) ? REASONS.get(id) : undefined;
}

/** The reason a sharded pool refuses keyless command `id` (resolved subcommand or top-level). */
export function keylessRefusal(id: number): string {
  const top = COMMANDS[id]?.parent ?? -1;
  const own = REASONS.get(id) ?? (top >= 0 ? REASONS.get(top) : undefined);
  if (own !== undefined) return own;
  if (hasFlag(id, CmdFlag.pubsub)) {
    return "sharded channels are spread over several servers; ask each server directly";
  }
  if (hasFlag(id, CmdFlag.admin)) return "admin commands must be sent to each server directly";
  return "it has no key to choose a server by";
}

/** `-ERR <COMMAND> is not supported by keepcache proxy: <reason>`: one stable wording clients can match. */
export function notSupported(req: ArgView, reason: string): Buffer {
  return errorReply(`${commandName(req)} is not supported by keepcache proxy: ${reason}`);
}

/** argv[0] as the client sent it, upper-cased (for error texts only). */
export function commandName(req: ArgView): string {
  return req.buf.toString("latin1", req.argStart[0], req.argEnd[0]).toUpperCase();
}

/** redis-server's reply to an unknown command (server.c processCommand, 7.0). */
export function unknownCommand(req: ArgView): Buffer {
  let args = "";
  for (let i = 1; i < req.argc && args.length < 128; i++) {
    const a = req.buf.toString("latin1", req.argStart[i], req.argEnd[i]);
    args += `'${a.slice(0, 128 - args.length)}' `;
  }
  const name = req.buf.toString("latin1", req.argStart[0], req.argEnd[0]).slice(0, 128);
  return errorReply(`unknown command '${name}', with args beginning with: ${args}`);
}

/** redis-server's arity error (server.c processCommand, 7.0: the command's lower-case fullname). */
export function wrongArity(id: number): Buffer {
  return errorReply(`wrong number of arguments for '${COMMANDS[id]?.name ?? "?"}' command`);
}
