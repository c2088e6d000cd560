/**
 * Which Redis commands need a server connection of their own (driver.ts Conn, served by
 * proxy/dedicated.ts), by Redis' own command table:
 * - blocking commands (flag `blocking`: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
 *   BZPOPMAX, BZMPOP; XREAD and XREADGROUP only with BLOCK), WAIT and WAITAOF: on the shared
 *   connection they would stall every client behind them (blocking.c blocks the connection);
 * - SCRIPT KILL and FUNCTION KILL: the shared connection may be the one waiting behind the
 *   busy script (script.c scriptKill is served to any other connection while a script runs);
 * - subscriber mode (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs), MONITOR and the
 *   connection-scoped CLIENT subcommands (TRACKING, CACHING, REPLY, NO-EVICT, NO-TOUCH): the
 *   connection becomes a stream of replies no request asked for (RESP2 pub/sub messages,
 *   RESP3 pushes), kept until the client goes;
 * - WATCH until EXEC, DISCARD or UNWATCH (multi.c: watched keys belong to the connection).
 *
 * Classic pub/sub on a pool of several servers follows one rule: SUBSCRIBE, PSUBSCRIBE,
 * PUBLISH and PUBSUB CHANNELS/NUMSUB/NUMPAT all go to the server the empty key hashes to (the
 * pool's designated pub/sub server), so every publisher and every subscriber meet there.
 * Sharded pub/sub (SSUBSCRIBE, SPUBLISH, PUBSUB SHARDCHANNELS/SHARDNUMSUB) goes by the channel's
 * hash, as Redis Cluster does (its channels are key-specs in the command table).
 */
import { CmdFlag, COMMANDS, commandId } from "../../protocol/resp/commands.js";
import type { RespRequest } from "../../protocol/resp/parser.js";
import { Conn } from "../driver.js";

/** Class codes of the table below beyond driver.ts Conn: decided by the arguments. */
const BLOCK_ARG = 8;
/** A stream command allowed only on a pool of one server (MONITOR, CLIENT TRACKING...). */
const STREAM_SINGLE = 9;

const CLASS = new Uint8Array(COMMANDS.length);
for (const c of COMMANDS) {
  if ((c.flags & CmdFlag.blocking) !== 0) CLASS[c.id] = Conn.Once;
}
function set(names: string[], cls: number): void {
  for (const n of names) {
    const id = commandId(n);
    // The table is generated from redis 7.0; a missing name is a typo here.
    if (id < 0) throw new Error(`redis command table has no '${n}'`);
    CLASS[id] = cls;
  }
}
set(["xread", "xreadgroup"], BLOCK_ARG);
set(["wait", "script|kill", "function|kill"], Conn.Once);
set(
  ["subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"],
  Conn.Stream,
);
set(
  ["monitor", "client|tracking", "client|caching", "client|reply", "client|no-evict"],
  STREAM_SINGLE,
);
const NO_TOUCH = commandId("client|no-touch");
if (NO_TOUCH >= 0) CLASS[NO_TOUCH] = STREAM_SINGLE;

const DESIGNATED = new Set(
  [
    "subscribe",
    "psubscribe",
    "unsubscribe",
    "punsubscribe",
    "publish",
    "pubsub|channels",
    "pubsub|numsub",
    "pubsub|numpat",
  ].map((n) => commandId(n)),
);

const SSUB = commandId("ssubscribe");
const SUNSUB = commandId("sunsubscribe");
const SPUBLISH = commandId("spublish");
const SHARDNUMSUB = commandId("pubsub|shardnumsub");

/**
 * Sharded pub/sub: the argument indexes of its channels into `out` (the command table marks
 * them `not_key`, so key positions skip them), and their count; -1 for another command.
 */
export function shardChannels(eff: number, req: RespRequest, out: number[]): number {
  let first: number;
  let last = req.argc - 1;
  if (eff === SSUB || eff === SUNSUB) first = 1;
  else if (eff === SPUBLISH) {
    first = 1;
    last = Math.min(1, last);
  } else if (eff === SHARDNUMSUB) first = 2;
  else return -1;
  let n = 0;
  for (let i = first; i <= last; i++) out[n++] = i;
  return n;
}

/** Classic pub/sub: served by the pool's designated pub/sub server (the empty key's). */
export const isDesignatedPubSub = (eff: number): boolean => DESIGNATED.has(eff);

/** Stream commands only a pool of one server serves (MONITOR, CLIENT TRACKING...). */
export const isSingleServerStream = (eff: number): boolean => CLASS[eff] === STREAM_SINGLE;

/**
 * The connection class command `eff` (resolved subcommand) needs, given its request; Conn.Shared
 * for almost everything (one typed-array read on the hot path).
 */
export function connClass(eff: number, req: RespRequest): number {
  if (eff < 0) return isWaitAof(req) ? Conn.Once : Conn.Shared;
  const c = CLASS[eff];
  if (c < BLOCK_ARG) return c;
  if (c === STREAM_SINGLE) return Conn.Stream;
  return hasBlockArg(req) ? Conn.Once : Conn.Shared;
}

/** XREAD/XREADGROUP: `BLOCK ms` before STREAMS makes them block (t_stream.c xreadCommand). */
function hasBlockArg(req: RespRequest): boolean {
  for (let i = 1; i < req.argc; i++) {
    const len = req.argEnd[i] - req.argStart[i];
    if (len === 7 && argIs(req, i, "STREAMS")) return false;
    if (len === 5 && argIs(req, i, "BLOCK")) return true;
  }
  return false;
}

/** WAITAOF (Redis 7.2) is not in the 7.0 table the proxy is generated from: by name. */
function isWaitAof(req: RespRequest): boolean {
  return req.argEnd[0] - req.argStart[0] === 7 && argIs(req, 0, "WAITAOF");
}

function argIs(req: RespRequest, i: number, upper: string): boolean {
  const b = req.buf;
  const s = req.argStart[i];
  for (let k = 0; k < upper.length; k++) {
    if ((b[s + k] & 0xdf) !== upper.charCodeAt(k)) return false;
  }
  return true;
}
