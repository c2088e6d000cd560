/**
 * Turns one parsed Redis request (outside a transaction, not answered locally) into a Plan.
 * Keyed commands are routed by their key positions from Redis' own command table
 * (protocol/resp/key-positions.ts): every key must be on one server (hash tags make that so),
 * except the commands multikey.ts splits and merges. Keyless commands follow policy.ts.
 * A single-server pool passes every command through except those that change connection
 * state: with one server no key can land on the wrong shard.
 */
import {
  Cmd,
  CmdFlag,
  COMMANDS,
  commandId,
  hasFlag,
  isReadOnly,
} from "../../protocol/resp/commands.js";
import { bulkLen, encodeRequest, headerLen } from "../../protocol/resp/encoder.js";
import {
  effectiveCommand,
  KEYS_INVALID,
  KEYS_UNSUPPORTED,
  keyPositions,
} from "../../protocol/resp/key-positions.js";
import { isSplitCommand, planSplit } from "../../protocol/resp/multikey.js";
import type { RespRequest } from "../../protocol/resp/parser.js";
import { type ClientState, Conn, type ForwardPlan, newForwardPlan, type Plan } from "../driver.js";
import { connClass, isDesignatedPubSub, isSingleServerStream, shardChannels } from "./dedicated.js";
import { BroadcastMerge, SplitMerge } from "./mergers.js";
import {
  Keyless,
  keylessKind,
  keylessRefusal,
  notSupported,
  singleServerRefusal,
  unknownCommand,
} from "./policy.js";
import { expectToken } from "./reply-framer.js";

/**
 * The backend channel (driver.ts ClientParser.channel) of RESP3 clients: their backend
 * connections said HELLO 3 at connect (driver.ts channelHandshake), so a RESP3 client's
 * requests pass through unchanged and its replies come back in RESP3, as a RESP2 client's do
 * on channel 0.
 */
export const RESP3_CHANNEL = 1;

export const EXPECT_ONE = 0;

export function local(reply: Buffer, close = false): Plan {
  return close ? { kind: "local", reply, close } : { kind: "local", reply };
}

/** The request as a multibulk: its own bytes, or re-encoded when it came inline. */
export function requestBody(req: RespRequest): Buffer {
  return req.inline ? encodeRequest(req) : req.buf.subarray(req.frameStart, req.frameEnd);
}

/**
 * Where argument k's bytes sit in requestBody(req): its own frame, or the multibulk an inline
 * request is re-encoded to (header, the bulks before it, its own "$len" line).
 */
export function bodyOffset(req: RespRequest, k: number): number {
  if (!req.inline) return req.argStart[k] - req.frameStart;
  let off = headerLen(req.argc);
  for (let i = 0; i < k; i++) off += bulkLen(req.argEnd[i] - req.argStart[i]);
  return off + headerLen(req.argEnd[k] - req.argStart[k]);
}

/** The reused hot-path forward: no rewrite, one reply. */
export const newRedisForward = (): ForwardPlan => newForwardPlan(EXPECT_ONE);

/**
 * A forward of the request itself to the server of argument `keyArg`, or with keyArg < 0 to
 * the server of the empty key (a fixed server: for requests any server answers alike, and for
 * malformed ones, which the server rejects with its own error text). An inline request is
 * re-encoded as a multibulk and handed out as its own buf with the key's offsets inside it, as
 * the core's retry re-hashes the key from the bytes it sent.
 */
export function forward(req: RespRequest, keyArg: number, eff: number, into?: ForwardPlan): Plan {
  const readOnly = isReadOnly(eff);
  if (!req.inline) {
    // The hot path: the client's reused plan (driver.ts: a plan is consumed before the next
    // next() call), else one object literal of the same fixed shape.
    const p = into ?? newRedisForward();
    p.buf = req.buf;
    p.keyStart = keyArg >= 0 ? req.argStart[keyArg] : 0;
    p.keyEnd = keyArg >= 0 ? req.argEnd[keyArg] : 0;
    p.frameStart = req.frameStart;
    p.frameEnd = req.frameEnd;
    // Only reads are safe to send twice; a retried INCR or LPUSH would apply twice.
    p.idempotent = readOnly;
    p.readOnly = readOnly;
    p.conn = Conn.Shared;
    return p;
  }
  const rewrite = encodeRequest(req);
  const keyStart = keyArg >= 0 ? bodyOffset(req, keyArg) : 0;
  const keyEnd = keyArg >= 0 ? keyStart + req.argEnd[keyArg] - req.argStart[keyArg] : 0;
  return {
    kind: "forward",
    buf: rewrite,
    keyStart,
    keyEnd,
    frameStart: 0,
    frameEnd: rewrite.length,
    rewrite,
    expect: EXPECT_ONE,
    silent: false,
    idempotent: readOnly,
    readOnly,
    conn: Conn.Shared,
  };
}

/** `plan` (a forward) on connection class `cls` (dedicated.ts): never retried. */
function onConn(plan: Plan, cls: number): Plan {
  if (plan.kind !== "forward") return plan;
  plan.conn = cls;
  plan.idempotent = false;
  return plan;
}

/**
 * A forward of `body` as a whole on connection class `conn`, routed by `hashKey` (undefined:
 * the empty key's server); not retried, as it changes or reads server connection state.
 */
export function wholeForward(
  body: Buffer,
  conn: number,
  expect: number = EXPECT_ONE,
  hashKey?: Buffer,
): Plan {
  return {
    kind: "forward",
    buf: body,
    keyStart: 0,
    keyEnd: 0,
    frameStart: 0,
    frameEnd: body.length,
    rewrite: body,
    expect,
    silent: false,
    idempotent: false,
    readOnly: false,
    tag: undefined,
    hashKey,
    conn,
  };
}

/**
 * WAIT / WAITAOF through the proxy. Redis waits for the replicas to acknowledge the offset of
 * the waiting connection's own last write (replication.c waitCommand: c->woff), but the
 * client's writes went over the shared connection, and a WAIT there would block every client
 * behind it (forever with timeout 0). So it runs on a dedicated connection, after a write that
 * lifts that connection's offset to the server's current one: a PUBLISH to a keepcache
 * channel, which a non-cluster server always propagates (pubsub.c publishCommand,
 * forceCommandPropagation), and after which c->woff is the master offset (server.c call()).
 * Every write the server executed before it, the client's answered writes included, is then
 * counted. The PUBLISH's reply is skipped (expect token).
 */
const WAIT_OFFSET = Buffer.from("*3\r\n$7\r\nPUBLISH\r\n$16\r\n__keepcache:wait\r\n$0\r\n\r\n");

const WAIT_ID = commandId("wait");

function waitPlan(req: RespRequest): Plan {
  const bytes = Buffer.concat([WAIT_OFFSET, requestBody(req)]);
  return wholeForward(bytes, Conn.Once, expectToken(1));
}

/** A request of a client whose connection is a stream: its bytes as they are (re-encoded inline). */
export const streamForward = (req: RespRequest): Plan =>
  wholeForward(requestBody(req), Conn.Stream);

/** The server all keys (argument indexes keys[0..n)) map to, or -1 when they differ. */
export function sameShard(req: RespRequest, keys: number[], n: number, state: ClientState): number {
  const shard = state.shardOf(req.buf, req.argStart[keys[0]], req.argEnd[keys[0]]);
  for (let k = 1; k < n; k++) {
    if (state.shardOf(req.buf, req.argStart[keys[k]], req.argEnd[keys[k]]) !== shard) return -1;
  }
  return shard;
}

export const CROSS_SHARD = "its keys are on different servers; put them under one hash tag";

/** MGET/MSET/DEL/UNLINK/EXISTS/TOUCH: one part per server, merged in key order. */
function split(req: RespRequest, cmd: number, eff: number, state: ClientState): Plan {
  const sp = planSplit(cmd, req, (b, s, e) => state.shardOf(b, s, e));
  if (sp === null) return local(notSupported(req, CROSS_SHARD));
  if (sp.kind === "refuse") return local(sp.reply);
  if (sp.subs.length === 1) return forward(req, 1, eff);
  const step = sp.kind === "ok" ? 2 : 1; // MSET pairs; the others list keys
  return {
    kind: "split",
    parts: sp.subs.map((s) => {
      // The part's first key, located inside the part's own bytes (the core retries from them).
      const k = 1 + s.positions[0] * step;
      const keyLen = req.argEnd[k] - req.argStart[k];
      const argc = 1 + s.positions.length * step;
      const keyStart =
        headerLen(argc) + bulkLen(req.argEnd[0] - req.argStart[0]) + headerLen(keyLen);
      const request = s.request;
      return { keyBuf: request, keyStart, keyEnd: keyStart + keyLen, request };
    }),
    expect: EXPECT_ONE,
    merge: new SplitMerge(sp),
    silent: false,
    readOnly: isReadOnly(eff),
  };
}

function keyless(req: RespRequest, eff: number, state: ClientState): Plan {
  const kind = keylessKind(eff);
  if (kind === undefined) return local(notSupported(req, keylessRefusal(eff)));
  if (kind === Keyless.Any) return forward(req, -1, eff);
  return {
    kind: "broadcast",
    request: requestBody(req),
    expect: EXPECT_ONE,
    merge: new BroadcastMerge(kind, state.servers, state.resp3),
    silent: false,
    readOnly: isReadOnly(eff),
  };
}

/**
 * Pub/sub on a pool of several servers (dedicated.ts): sharded commands by their channels'
 * server, classic ones on the designated server (the empty key's), the rest refused.
 */
function pubsub(
  req: RespRequest,
  eff: number,
  cls: number,
  state: ClientState,
  keys: number[],
): Plan {
  if (isDesignatedPubSub(eff)) return onConn(forward(req, -1, eff), cls);
  const n = shardChannels(eff, req, keys);
  if (n > 0) {
    if (sameShard(req, keys, n, state) < 0) {
      return local(
        notSupported(req, "its channels are on different servers; put them under one hash tag"),
      );
    }
    return onConn(forward(req, keys[0], eff), cls);
  }
  return local(notSupported(req, keylessRefusal(eff)));
}

/**
 * Plans a request. `keys` is scratch space for key indexes and `into` a forward plan to fill
 * (both reused per client: no allocation on the hot path).
 */
export function planRequest(
  req: RespRequest,
  state: ClientState,
  keys: number[],
  into?: ForwardPlan,
): Plan {
  const cmd = req.cmd;
  const eff = cmd < 0 ? cmd : effectiveCommand(cmd, req);
  const cls = connClass(eff, req);
  if (state.servers <= 1) {
    const why = cmd < 0 ? undefined : singleServerRefusal(cmd);
    if (why !== undefined) return local(notSupported(req, why));
    if (cls === Conn.Once && (eff === WAIT_ID || cmd < 0)) return waitPlan(req);
    const n = cmd < 0 ? 0 : keyPositions(cmd, req, keys);
    const p = forward(req, n > 0 ? keys[0] : -1, eff, into);
    return cls === Conn.Shared ? p : onConn(p, cls);
  }
  if (cmd < 0) return local(unknownCommand(req));
  if (cls !== Conn.Shared && isSingleServerStream(eff)) {
    return local(notSupported(req, keylessRefusal(eff)));
  }
  if (hasFlag(eff, CmdFlag.pubsub)) return pubsub(req, eff, cls, state, keys);
  const n = keyPositions(cmd, req, keys);
  if (n > 0) {
    if (isSplitCommand(cmd) && cmd !== Cmd.MSETNX) return split(req, cmd, eff, state);
    if (n === 1 || sameShard(req, keys, n, state) >= 0) {
      const p = forward(req, keys[0], eff, into);
      return cls === Conn.Shared ? p : onConn(p, cls);
    }
    return local(notSupported(req, CROSS_SHARD));
  }
  if (n === KEYS_UNSUPPORTED) {
    return local(notSupported(req, "its keys cannot be located from the command table"));
  }
  // Malformed (the server answers with its own error), or a keyed command given no key this
  // time (EVAL script 0): any one server.
  if (n === KEYS_INVALID || COMMANDS[eff].keySpecs.length > 0) {
    const p = forward(req, -1, eff);
    return cls === Conn.Shared ? p : onConn(p, cls);
  }
  return keyless(req, eff, state);
}
