/**
 * Commands the proxy answers itself because they concern the client's connection to the
 * proxy, not data: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET and CLIENT's naming
 * subcommands. Reply texts follow redis-server 7.0 (server.c pingCommand/echoCommand,
 * acl.c authCommand, networking.c helloCommand/clientCommand, db.c selectCommand).
 */
import { timingSafeEqual } from "node:crypto";
import type { ArgView } from "../../protocol/resp/command-types.js";
import { REDIS_VERSION } from "../../protocol/resp/commands-table.js";
import {
  arrayHeader,
  bulk,
  codedError,
  errorReply,
  integer,
  nullReply,
  simpleString,
} from "../../protocol/resp/encoder.js";
import { argInteger } from "../../protocol/resp/key-positions.js";
import type { ClientState } from "../driver.js";
import { Id } from "./ids.js";
import { notSupported, wrongArity } from "./policy.js";

/** What a local command did besides its reply. */
export interface LocalResult {
  reply: Buffer;
  close?: boolean;
  /** RESET: the caller drops its transaction state too. */
  reset?: boolean;
}

/** Per-connection data only the proxy keeps (CLIENT SETNAME, CLIENT ID). */
export interface LocalConn {
  readonly id: number;
  name: string | undefined;
}

const OK = simpleString("OK");
const PONG = simpleString("PONG");
export const NOAUTH = codedError("NOAUTH", "Authentication required.");
const WRONGPASS = codedError("WRONGPASS", "invalid username-password pair or user is disabled.");

function arg(req: ArgView, i: number): Buffer {
  return req.buf.subarray(req.argStart[i], req.argEnd[i]);
}

function argIs(req: ArgView, i: number, word: string): boolean {
  return i < req.argc && arg(req, i).toString("latin1").toUpperCase() === word;
}

/** Constant-time compare, so the reply time does not leak how much of a password matched. */
function passwordMatches(expected: string, given: Buffer): boolean {
  const want = Buffer.from(expected);
  if (want.length !== given.length) return false;
  return timingSafeEqual(want, given);
}

/** AUTH [username] password against the pool's password; only the user "default" exists. */
function checkAuth(state: ClientState, user: Buffer | undefined, pass: Buffer): boolean {
  if (user !== undefined && user.toString("latin1") !== "default") return false;
  if (state.password === undefined) return true;
  return passwordMatches(state.password, pass);
}

function auth(req: ArgView, state: ClientState): Buffer {
  if (req.argc < 2) return wrongArity(Id.AUTH);
  if (req.argc > 3) return errorReply("syntax error");
  if (req.argc === 2 && state.password === undefined) {
    return errorReply(
      "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
    );
  }
  const user = req.argc === 3 ? arg(req, 1) : undefined;
  if (!checkAuth(state, user, arg(req, req.argc - 1))) return WRONGPASS;
  state.authenticated = true;
  return OK;
}

function helloReply(state: ClientState, conn: LocalConn): Buffer {
  const fields: Array<[string, Buffer]> = [
    ["server", bulk("redis")],
    ["version", bulk(REDIS_VERSION)],
    ["proto", integer(state.resp3 ? 3 : 2)],
    ["id", integer(conn.id)],
    ["mode", bulk("standalone")],
    ["role", bulk("master")],
    ["modules", arrayHeader(0)],
  ];
  const head = state.resp3 ? Buffer.from(`%${fields.length}\r\n`) : arrayHeader(fields.length * 2);
  return Buffer.concat([head, ...fields.flatMap(([k, v]) => [bulk(k), v])]);
}

function hello(req: ArgView, state: ClientState, conn: LocalConn): Buffer {
  let ver = state.resp3 ? 3 : 2;
  let i = 1;
  if (req.argc >= 2) {
    ver = argInteger(req, 1);
    if (Number.isNaN(ver)) return errorReply("Protocol version is not an integer or out of range");
    if (ver < 2 || ver > 3) return codedError("NOPROTO", "unsupported protocol version");
    i = 2;
  }
  let user: Buffer | undefined;
  let pass: Buffer | undefined;
  let name: string | undefined;
  for (; i < req.argc; i++) {
    const left = req.argc - i - 1;
    if (argIs(req, i, "AUTH") && left >= 2) {
      user = arg(req, i + 1);
      pass = arg(req, i + 2);
      i += 2;
    } else if (argIs(req, i, "SETNAME") && left >= 1) {
      name = arg(req, i + 1).toString("latin1");
      if (!validName(name)) return badName();
      i += 1;
    } else {
      return errorReply(`Syntax error in HELLO option '${arg(req, i).toString("latin1")}'`);
    }
  }
  if ((ver === 3) !== state.resp3 && (state.dedicated ?? -1) >= 0 && state.streaming !== true) {
    // The held connection said its protocol at connect (driver.ts channelHandshake) and
    // carries server state (WATCH, a blocking command in flight) that the connections of
    // the other protocol do not have.
    return errorReply(
      `keepcache: HELLO ${ver} cannot switch protocols while this connection holds a dedicated server connection (WATCH, or a blocking command or large value in flight); send it before WATCH or after EXEC`,
    );
  }
  if (pass !== undefined) {
    if (!checkAuth(state, user, pass)) return WRONGPASS;
    state.authenticated = true;
  }
  if (state.password !== undefined && !state.authenticated) {
    return codedError(
      "NOAUTH",
      "HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
  }
  if (name !== undefined) conn.name = name === "" ? undefined : name;
  state.resp3 = ver === 3;
  return helloReply(state, conn);
}

/** networking.c clientSetName: printable ASCII without spaces. */
function validName(name: string): boolean {
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function badName(): Buffer {
  return errorReply("Client names cannot contain spaces, newlines or special characters.");
}

function client(req: ArgView, state: ClientState, conn: LocalConn): Buffer {
  if (req.argc < 2) return wrongArity(Id.CLIENT);
  const sub = arg(req, 1).toString("latin1").toUpperCase();
  switch (sub) {
    case "SETNAME": {
      if (req.argc !== 3) return wrongArity(Id.CLIENT_SETNAME);
      const name = arg(req, 2).toString("latin1");
      if (!validName(name)) return badName();
      conn.name = name === "" ? undefined : name;
      return OK;
    }
    case "GETNAME":
      return conn.name === undefined ? nullReply(state.resp3) : bulk(conn.name);
    case "ID":
      return integer(conn.id);
    // Redis 7.2 clients (node-redis 5) announce their library; 7.0 servers lack it, so accept.
    case "SETINFO":
      return OK;
    default:
      return notSupported(
        req,
        `CLIENT ${sub} would act on a server connection that clients share through the proxy`,
      );
  }
}

/** CLIENT subcommands that set state on the server connection (redis/dedicated.ts streams). */
const SERVER_SCOPED = new Set(["TRACKING", "CACHING", "REPLY", "NO-EVICT", "NO-TOUCH"]);

function serverScoped(req: ArgView): boolean {
  return req.argc >= 2 && SERVER_SCOPED.has(arg(req, 1).toString("latin1").toUpperCase());
}

/** Answers local command `cmd` (a top-level id), updating state; undefined if not local. */
export function localCommand(
  cmd: number,
  req: ArgView,
  state: ClientState,
  conn: LocalConn,
): LocalResult | undefined {
  switch (cmd) {
    case Id.PING:
      if (req.argc > 2) return { reply: wrongArity(cmd) };
      return { reply: req.argc === 2 ? bulk(arg(req, 1)) : PONG };
    case Id.ECHO:
      return { reply: req.argc === 2 ? bulk(arg(req, 1)) : wrongArity(cmd) };
    case Id.QUIT:
      return { reply: OK, close: true };
    case Id.SELECT: {
      if (req.argc !== 2) return { reply: wrongArity(cmd) };
      const db = argInteger(req, 1);
      if (Number.isNaN(db)) return { reply: errorReply("value is not an integer or out of range") };
      if (db === 0) return { reply: OK };
      return {
        reply: notSupported(
          req,
          "the proxy serves one database per pool (redis_db), which clients see as 0",
        ),
      };
    }
    case Id.AUTH:
      return { reply: auth(req, state) };
    case Id.HELLO:
      return { reply: hello(req, state, conn) };
    case Id.CLIENT:
      // Connection-scoped server state (tracking, reply mode): a dedicated connection's.
      if (serverScoped(req)) return undefined;
      return { reply: client(req, state, conn) };
    case Id.RESET:
      state.resp3 = false;
      state.authenticated = state.password === undefined;
      conn.name = undefined;
      return { reply: simpleString("RESET"), reset: true };
    default:
      return undefined;
  }
}

/** Commands the proxy may run before AUTH (redis marks these no_auth; QUIT closes anyway). */
export function allowedBeforeAuth(cmd: number): boolean {
  return cmd === Id.AUTH || cmd === Id.HELLO || cmd === Id.QUIT;
}

/** True for the commands localCommand answers. */
export function isLocal(cmd: number): boolean {
  return LOCAL.has(cmd);
}

const LOCAL = new Set([
  Id.PING,
  Id.ECHO,
  Id.QUIT,
  Id.SELECT,
  Id.AUTH,
  Id.HELLO,
  Id.CLIENT,
  Id.RESET,
]);
