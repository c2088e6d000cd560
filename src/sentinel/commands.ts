/**
 * The Sentinel commands clients send to find masters (sentinel-clients.md, sentinel.md
 * "Sentinel API"), answered the way redis-sentinel 7 answers them: same reply shapes, field
 * names and error texts (sentinel.c sentinelCommand, server.c for the generic errors).
 * Pub/sub commands are the connection's business (client.ts); everything else is here.
 */
import { VERSION } from "../version.js";
import type { Value } from "./encode.js";
import { type Masters, masterIndex, memberAddr } from "./masters.js";
import { masterFields, replicaFields, replicaIndexes } from "./replies.js";

/** What a command produced: a value, a status line, an error line, or a status then close. */
export type Reply =
  | { kind: "value"; value: Value }
  | { kind: "status"; text: string }
  | { kind: "error"; text: string }
  | { kind: "quit" };

export interface CommandContext {
  masters: Masters;
  clientId: number;
  clientName: string;
  setName(name: string): void;
  /** Asks a set for a manual failover (SENTINEL FAILOVER); errors are logged by the caller. */
  failover(name: string): void;
  port: number;
  startedAt: number;
  runId: string;
  clients(): number;
}

const ok: Reply = { kind: "status", text: "OK" };
const err = (text: string): Reply => ({ kind: "error", text });
const value = (v: Value): Reply => ({ kind: "value", value: v });
const NO_MASTER = err("ERR No such master with that name");

/** redis server.c processCommand: "unknown command '%s', with args beginning with: '%s' ...". */
export function unknownCommand(args: string[]): Reply {
  const rest = args
    .slice(1)
    .map((a) => `'${a.slice(0, 128)}' `)
    .join("");
  return err(`ERR unknown command '${args[0].slice(0, 128)}', with args beginning with: ${rest}`);
}

function wrongArity(cmd: string): Reply {
  return err(`ERR wrong number of arguments for '${cmd.toLowerCase()}' command`);
}

export function runCommand(args: string[], ctx: CommandContext): Reply {
  const cmd = args[0].toLowerCase();
  switch (cmd) {
    case "ping":
      if (args.length > 2) return wrongArity(cmd);
      return args.length === 2 ? value(args[1]) : { kind: "status", text: "PONG" };
    case "quit":
      return { kind: "quit" };
    case "auth":
      // redis-sentinel without requirepass answers exactly this.
      return err(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
      );
    case "hello":
      return hello(args, ctx);
    case "client":
      return client(args, ctx);
    case "role":
      return value(["sentinel", ctx.masters.list().map((m) => m.name)]);
    case "info":
      return value(info(args[1]?.toLowerCase(), ctx));
    case "sentinel":
      return sentinel(args, ctx);
    default:
      return unknownCommand(args);
  }
}

function hello(args: string[], ctx: CommandContext): Reply {
  const proto = args[1];
  if (proto !== undefined && proto !== "2")
    return proto === "3"
      ? err("NOPROTO sorry, this protocol version is not supported")
      : err("ERR Protocol version is not an integer or out of range");
  for (let i = 2; i < args.length; i++) {
    const opt = args[i].toLowerCase();
    if (opt === "setname" && i + 1 < args.length) ctx.setName(args[++i]);
    else if (opt === "auth") return runCommand(["auth"], ctx);
    else return err(`ERR Syntax error in HELLO option '${args[i]}'`);
  }
  return value([
    "server",
    "redis",
    "version",
    VERSION,
    "proto",
    2,
    "id",
    ctx.clientId,
    "mode",
    "sentinel",
    "role",
    "master",
    "modules",
    [],
  ]);
}

function client(args: string[], ctx: CommandContext): Reply {
  const sub = (args[1] ?? "").toLowerCase();
  if (sub === "setname" && args.length === 3) {
    if (/[\s]/.test(args[2]))
      return err("ERR Client names cannot contain spaces, newlines or special characters.");
    ctx.setName(args[2]);
    return ok;
  }
  if (sub === "getname" && args.length === 2)
    return value(ctx.clientName === "" ? null : ctx.clientName);
  if (sub === "id" && args.length === 2) return value(ctx.clientId);
  if (sub === "setinfo" && args.length === 4) return ok;
  return err(
    `ERR unknown subcommand or wrong number of arguments for '${args[1] ?? ""}'. Try CLIENT HELP.`,
  );
}

function sentinel(args: string[], ctx: CommandContext): Reply {
  if (args.length < 2) return wrongArity("sentinel");
  const sub = args[1].toLowerCase();
  const named = () => (args.length === 3 ? ctx.masters.get(args[2]) : undefined);
  switch (sub) {
    case "get-master-addr-by-name": {
      if (args.length !== 3) break;
      const m = named();
      if (m === undefined) return value(null);
      const a = memberAddr(m.set, masterIndex(m.set));
      return value([a.ip, String(a.port)]);
    }
    case "masters":
      if (args.length !== 2) break;
      return value(ctx.masters.list().map((m) => masterFields(m)));
    case "master": {
      if (args.length !== 3) break;
      const m = named();
      return m === undefined ? NO_MASTER : value(masterFields(m));
    }
    case "replicas":
    case "slaves": {
      if (args.length !== 3) break;
      const m = named();
      if (m === undefined) return NO_MASTER;
      return value(replicaIndexes(m.set).map((i) => replicaFields(m.set, i)));
    }
    case "sentinels":
      // keepcache is the only "sentinel" of its sets; Sentinel lists the OTHER sentinels.
      if (args.length !== 3) break;
      return named() === undefined ? NO_MASTER : value([]);
    case "myid":
      if (args.length !== 2) break;
      return value(ctx.runId);
    case "ckquorum":
      if (args.length !== 3) break;
      return named() === undefined
        ? NO_MASTER
        : {
            kind: "status",
            text: "OK 1 usable Sentinels. Quorum and failover authorization can be reached",
          };
    case "failover":
      if (args.length !== 3) break;
      if (named() === undefined) return NO_MASTER;
      ctx.failover(args[2]);
      return ok;
    default:
      return err(`ERR unknown subcommand '${args[1]}'. Try SENTINEL HELP.`);
  }
  return err(`ERR wrong number of arguments for 'sentinel|${sub}' command`);
}

/** INFO in redis-sentinel's layout: the Server, Clients and Sentinel sections. */
function info(section: string | undefined, ctx: CommandContext): string {
  const want = (s: string) =>
    section === undefined || section === "default" || section === "all" || section === s;
  const parts: string[] = [];
  if (want("server"))
    parts.push(
      [
        "# Server",
        `redis_version:${VERSION}`,
        "redis_mode:sentinel",
        `process_id:${process.pid}`,
        `run_id:${ctx.runId}`,
        `tcp_port:${ctx.port}`,
        `uptime_in_seconds:${Math.floor((Date.now() - ctx.startedAt) / 1000)}`,
        "executable:keepcache",
      ].join("\r\n"),
    );
  if (want("clients")) parts.push(`# Clients\r\nconnected_clients:${ctx.clients()}`);
  if (want("sentinel")) {
    const ms = ctx.masters.list();
    const lines = [
      "# Sentinel",
      `sentinel_masters:${ms.length}`,
      "sentinel_tilt:0",
      "sentinel_tilt_since_seconds:-1",
      "sentinel_running_scripts:0",
      "sentinel_scripts_queue_length:0",
      "sentinel_simulate_failure_flags:0",
    ];
    ms.forEach((m, k) => {
      const i = masterIndex(m.set);
      const a = memberAddr(m.set, i);
      const h = m.set.view.members[i]?.health;
      const status = h === "down" || h === "fenced" ? "odown" : "ok";
      lines.push(
        `master${k}:name=${m.name},status=${status},address=${a.ip}:${a.port},slaves=${replicaIndexes(m.set).length},sentinels=1`,
      );
    });
    parts.push(lines.join("\r\n"));
  }
  return `${parts.join("\r\n\r\n")}\r\n`;
}
