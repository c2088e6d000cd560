/**
 * A Redis pool's command policy: which commands its clients may send at all. A pool confines
 * its clients to one tenant: its database (`redis_db`), its hidden backend password
 * (`redis_auth`) and its servers. By default the proxy refuses every command that reaches past
 * that tenant (server configuration and ACLs, replication, persistence, other clients, other
 * databases, other hosts, scripts), answers FLUSHALL as FLUSHDB, and lets a pool's
 * `allow_commands` / `deny_commands` open or close commands by name ("config" for every
 * subcommand, "config|get" or "config get" for one).
 *
 * The defaults follow Redis' own ACL categories (`ACL CAT admin`, `ACL CAT dangerous`,
 * `ACL CAT scripting`, redis 7.0): every @admin command is closed; of the @dangerous ones that
 * are not @admin, FLUSHALL is answered as FLUSHDB, MIGRATE and SWAPDB are closed, and FLUSHDB,
 * KEYS, INFO, SORT, RESTORE stay open because they act on the tenant's own database.
 *
 * Scripts are closed by default because redis.call() can run any command with arguments the
 * proxy never sees (`redis.call(ARGV[1], ...)`), so no scan of the script text is a guarantee.
 * They are open when the backend itself enforces the tenant: `redis_user` makes every backend
 * connection authenticate as an ACL user whose rules deny SELECT of other databases (checked
 * on every new connection, driver.ts handshake) and the other commands above (redis ACLs apply
 * inside scripts: "The user executing the script can't run this command").
 */
import type { ArgView } from "../../protocol/resp/command-types.js";
import { COMMANDS, commandId } from "../../protocol/resp/commands.js";
import { bulkLen, encodeRequest, errorReply, headerLen } from "../../protocol/resp/encoder.js";
import { effectiveCommand } from "../../protocol/resp/key-positions.js";
import { RespRequest } from "../../protocol/resp/parser.js";
import type { CommandPolicy } from "../driver.js";

/** Per-command verdicts (one byte per command id). */
const OPEN = 0;
/** A container whose subcommands differ: look up argv[1]. */
const BY_SUBCOMMAND = 1;
const CLOSED = 2;
/** FLUSHALL: sent as FLUSHDB, so it empties the pool's database only. */
const AS_FLUSHDB = 3;
/** COPY: closed only with its DB option (a copy into another database). */
const COPY_SAME_DB = 4;
/** CONFIG GET: open for parameters named literally, none of them a secret. */
const CONFIG_GET_PLAIN = 5;

/**
 * Parameters CONFIG GET may not show: redis 7.0 config.c marks the first four
 * SENSITIVE_CONFIG; masteruser and replicaof name the master's user and host.
 */
export const SECRET_PARAMETERS = [
  "requirepass",
  "masterauth",
  "tls-key-file-pass",
  "tls-client-key-file-pass",
  "masteruser",
  "replicaof",
  "slaveof",
];
const CONFIG_GET_REASON = `a pattern or a secret parameter (${SECRET_PARAMETERS.join(", ")}) would show what redis_auth hides; name the parameters`;

const ONE_DB = "the pool is confined to one database (redis_db)";
export const SCRIPTS_REASON =
  "a script can run any command, other databases and hosts included; set redis_user (a backend ACL user that enforces the pool's database) or open scripts with allow_commands";

/** The closed-by-default groups, each with the reason its clients read. */
export const DEFAULT_CLOSED: ReadonlyArray<readonly [readonly string[], string]> = [
  [["config"], "the server's configuration holds redis_auth and is shared by every tenant"],
  [["acl"], "ACL users and passwords are the server's, shared by every tenant"],
  [["migrate"], "it makes the server connect to another host and send it keys"],
  [
    ["replicaof", "slaveof", "failover", "sync", "psync", "replconf", "role"],
    "replication is the server's, shared by every tenant (and names other hosts)",
  ],
  [["module"], "modules load code into the server every tenant shares"],
  [["debug", "pfdebug", "pfselftest"], "it acts on the whole server"],
  [["shutdown"], "it stops the server every tenant shares"],
  [
    ["save", "bgsave", "bgrewriteaof", "lastsave"],
    "persistence is the server's, shared by every tenant",
  ],
  [
    [
      "client|kill",
      "client|list",
      "client|pause",
      "client|unpause",
      "client|unblock",
      "client|no-evict",
    ],
    "it acts on other clients' connections to the server",
  ],
  [["monitor", "slowlog", "latency"], "it shows other tenants' commands"],
  [
    ["cluster", "readonly", "readwrite", "asking", "restore-asking"],
    "the pool is not a Redis Cluster",
  ],
  [["swapdb", "move"], ONE_DB],
  [["function"], "function libraries are the server's, shared by every tenant"],
  [["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "script"], SCRIPTS_REASON],
];

/** Commands scripts need; `redis_user` opens them (the backend's ACL confines them). */
const SCRIPTING = DEFAULT_CLOSED[DEFAULT_CLOSED.length - 1][0];

/**
 * The ids a policy name stands for: a command, or a container with all its subcommands.
 * Empty when the name is unknown.
 */
export function policyIds(name: string): number[] {
  const id = commandId(name.trim());
  if (id < 0) return [];
  const out = [id];
  if (COMMANDS[id].hasSubcommands) {
    for (const c of COMMANDS) if (c.parent === id) out.push(c.id);
  }
  return out;
}

export interface PolicyOptions {
  allowCommands?: readonly string[];
  denyCommands?: readonly string[];
  /** The backend connections authenticate as an ACL user that confines them (redis_user). */
  backendAcl?: boolean;
}

export class RedisCommandPolicy implements CommandPolicy {
  readonly driver = "redis";
  /** Verdict per command id. */
  private readonly verdict = new Uint8Array(COMMANDS.length);
  /** A container's own verdict for subcommands Redis does not know (redis answers them). */
  private readonly own = new Uint8Array(COMMANDS.length);
  private readonly reason: string[] = new Array(COMMANDS.length).fill("");

  constructor(o: PolicyOptions = {}) {
    for (const [names, why] of DEFAULT_CLOSED) {
      for (const n of names) this.set(n, CLOSED, why);
    }
    this.set("flushall", AS_FLUSHDB, "");
    this.set("copy", COPY_SAME_DB, ONE_DB);
    // Tools read settings at start (redis-benchmark: CONFIG GET save, appendonly).
    this.set("config|get", CONFIG_GET_PLAIN, CONFIG_GET_REASON);
    if (o.backendAcl) for (const n of SCRIPTING) this.set(n, OPEN, "");
    for (const n of o.allowCommands ?? []) this.set(n, OPEN, "");
    for (const n of o.denyCommands ?? [])
      this.set(n, CLOSED, "this pool's deny_commands closes it");
    for (const c of COMMANDS) {
      if (c.parent >= 0 && this.verdict[c.id] !== this.verdict[c.parent]) {
        this.verdict[c.parent] = BY_SUBCOMMAND;
      }
    }
  }

  private set(name: string, v: number, why: string): void {
    const ids = policyIds(name);
    // The lists are validated by the config schema; the defaults name real commands.
    if (ids.length === 0) throw new Error(`command policy names unknown redis command '${name}'`);
    for (const id of ids) {
      this.verdict[id] = v;
      this.own[id] = v;
      this.reason[id] = why;
    }
  }

  /**
   * The request to plan: `req` itself when the policy lets it through, a rewritten request
   * (FLUSHALL → FLUSHDB), or the refusal reply. O(1) for an open command (one byte read).
   */
  check(req: RespRequest): RespRequest | Buffer {
    const cmd = req.cmd;
    if (cmd < 0) return req;
    let id = cmd;
    let v = this.verdict[cmd];
    if (v === OPEN) return req;
    if (v === BY_SUBCOMMAND) {
      id = effectiveCommand(cmd, req);
      v = id === cmd ? this.own[cmd] : this.verdict[id];
    }
    switch (v) {
      case OPEN:
        return req;
      case AS_FLUSHDB:
        return asFlushdb(req);
      case COPY_SAME_DB:
        return hasDbOption(req) ? this.refuse(req, id) : req;
      case CONFIG_GET_PLAIN:
        return plainParameters(req) ? req : this.refuse(req, id);
      default:
        return this.refuse(req, id);
    }
  }

  private refuse(req: ArgView, id: number): Buffer {
    const c = COMMANDS[id];
    return notAllowed(req, c.parent >= 0 || c.hasSubcommands, this.reason[id]);
  }
}

/** `-ERR <COMMAND [SUB]> is not allowed by keepcache proxy: <reason>`. */
export function notAllowed(req: ArgView, withSub: boolean, reason: string): Buffer {
  let name = req.buf.toString("latin1", req.argStart[0], req.argEnd[0]);
  if (withSub && req.argc > 1)
    name += ` ${req.buf.toString("latin1", req.argStart[1], req.argEnd[1])}`;
  return errorReply(
    `${name.toUpperCase().slice(0, 128)} is not allowed by keepcache proxy: ${reason}`,
  );
}

/**
 * CONFIG GET's arguments are all literal names (no stringmatch pattern characters, util.c)
 * and none is a secret; the server looks names up case-insensitively, so compare lower-case.
 */
function plainParameters(req: ArgView): boolean {
  for (let i = 2; i < req.argc; i++) {
    const name = req.buf.toString("latin1", req.argStart[i], req.argEnd[i]).toLowerCase();
    if (/[*?[\\]/.test(name) || SECRET_PARAMETERS.includes(name)) return false;
  }
  return true;
}

/** COPY source destination [DB destination-db] [REPLACE] (redis 7.0 copyCommand). */
function hasDbOption(req: ArgView): boolean {
  for (let i = 3; i < req.argc; i++) {
    const len = req.argEnd[i] - req.argStart[i];
    if (
      len === 2 &&
      req.buf.toString("latin1", req.argStart[i], req.argEnd[i]).toUpperCase() === "DB"
    ) {
      return true;
    }
  }
  return false;
}

const FLUSHDB_ID = commandId("flushdb");
const FLUSHDB = Buffer.from("FLUSHDB");

/**
 * FLUSHALL [ASYNC|SYNC] as FLUSHDB with the same arguments: what the client can see of the
 * server is the pool's database, so that is what "all" empties (db.c flushallCommand and
 * flushdbCommand take the same options).
 */
function asFlushdb(req: RespRequest): RespRequest {
  const view = { buf: req.buf, argc: req.argc, argStart: req.argStart, argEnd: req.argEnd };
  const args = Array.from({ length: req.argc - 1 }, (_, k) => k + 1);
  const tail = encodeRequest(view, args);
  const out = new RespRequest();
  // The same multibulk with argv[0] replaced: header, FLUSHDB's bulk, the arguments' bulks.
  const head = Buffer.from(`*${req.argc}\r\n$${FLUSHDB.length}\r\nFLUSHDB\r\n`);
  const skip = headerLen(req.argc - 1);
  out.buf = Buffer.concat([head, tail.subarray(skip)]);
  out.argc = req.argc;
  let off = head.length - FLUSHDB.length - 2;
  out.argStart.push(off);
  out.argEnd.push(off + FLUSHDB.length);
  off = head.length;
  for (let i = 1; i < req.argc; i++) {
    const len = req.argEnd[i] - req.argStart[i];
    out.argStart.push(off + headerLen(len));
    out.argEnd.push(off + headerLen(len) + len);
    off += bulkLen(len);
  }
  out.frameStart = 0;
  out.frameEnd = out.buf.length;
  out.cmd = FLUSHDB_ID;
  return out;
}
