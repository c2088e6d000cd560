/**
 * One client connection's request side for the Redis driver: frames requests with the RESP
 * parser (multibulk and inline, redis-server's own protocol errors) and turns each into a
 * Plan, in order, so pipelined replies keep their order (the core writes replies in plan
 * order). Order of checks per request: authentication, transaction queuing, proxy-answered
 * commands, then routing (planner.ts).
 */
import {
  arityOk,
  CmdFlag,
  COMMANDS,
  hasFlag,
  isMovableKeys,
} from "../../protocol/resp/commands.js";
import { arrayHeader, errorReply, simpleString } from "../../protocol/resp/encoder.js";
import {
  effectiveCommand,
  KEYS_UNSUPPORTED,
  keyPositions,
} from "../../protocol/resp/key-positions.js";
import { isSplitCommand } from "../../protocol/resp/multikey.js";
import { ParseStatus, type RespRequest, RespRequestParser } from "../../protocol/resp/parser.js";
import {
  type ClientParser,
  type ClientState,
  Conn,
  type DriverLimits,
  ParseResult,
  type Plan,
} from "../driver.js";
import type { RedisCommandPolicy } from "./command-policy.js";
import { connClass, isDesignatedPubSub, shardChannels } from "./dedicated.js";
import { Id } from "./ids.js";
import { allowedBeforeAuth, isLocal, type LocalConn, localCommand, NOAUTH } from "./local.js";
import {
  bodyOffset,
  CROSS_SHARD,
  local,
  newRedisForward,
  planRequest,
  RESP3_CHANNEL,
  requestBody,
  sameShard,
  streamForward,
  wholeForward,
} from "./planner.js";
import {
  Keyless,
  keylessKind,
  keylessRefusal,
  notSupported,
  singleServerRefusal,
  unknownCommand,
  wrongArity,
} from "./policy.js";
import { expectToken, STREAM_MIN } from "./reply-framer.js";
import { EXECABORT, Transaction } from "./transaction.js";

const OK = simpleString("OK");
const QUEUED = simpleString("QUEUED");
const EMPTY_EXEC = arrayHeader(0);
const UNWATCH = Buffer.from("*1\r\n$7\r\nUNWATCH\r\n");
const EMPTY = Buffer.alloc(0);

let nextClientId = 1;

export class RedisClientParser implements ClientParser {
  plan: Plan | undefined = undefined;
  errorReply: Buffer | undefined = undefined;
  close = false;
  pieceBuf: Buffer = EMPTY;
  pieceStart = 0;
  pieceEnd = 0;
  pieceLast = false;

  private readonly parser: RespRequestParser;
  private readonly tx = new Transaction();
  private readonly conn: LocalConn = { id: nextClientId++, name: undefined };
  private readonly keys: number[] = [];
  private readonly fwd = newRedisForward();
  /**
   * WATCH was sent, on a dedicated connection (driver.ts Conn.Hold) that stays until EXEC,
   * DISCARD or UNWATCH; `watchKey` routes those to it (a copy of the first watched key).
   */
  private watching = false;
  private watchKey: Buffer = EMPTY;
  private watchShard = -1;

  constructor(
    private readonly limits: DriverLimits,
    private readonly state: ClientState,
  ) {
    this.parser = new RespRequestParser({
      maxBulkLen: Math.min(limits.maxRequestBytes, 512 * 1024 * 1024),
      maxBulkSetting: "max_request_bytes in the pool config",
      streamMin: STREAM_MIN,
    });
  }

  /** RESP3 clients' requests go on backend connections that said HELLO 3 (planner.ts). */
  get channel(): number {
    return this.state.resp3 ? RESP3_CHANNEL : 0;
  }

  feed(chunk: Buffer): void {
    this.parser.feed(chunk);
  }

  next(): ParseResult {
    this.plan = undefined;
    if (this.close) return ParseResult.NeedMore; // QUIT: nothing after it is served
    const s = this.parser.next();
    if (s === ParseStatus.NeedMore) return ParseResult.NeedMore;
    if (s === ParseStatus.Error) {
      this.errorReply = Buffer.from(this.parser.errorReply, "latin1");
      this.close = true;
      return ParseResult.Error;
    }
    if (s === ParseStatus.Piece) {
      const p = this.parser;
      this.pieceBuf = p.req.buf;
      this.pieceStart = p.pieceStart;
      this.pieceEnd = p.pieceEnd;
      this.pieceLast = p.pieceLast;
      return ParseResult.Piece;
    }
    if (s === ParseStatus.Partial) {
      const p = this.uploadPlan(this.parser.req);
      // Not one to stream: the parser buffers the request whole once asked again.
      if (p === undefined) return this.next();
      this.plan = p;
      return ParseResult.Upload;
    }
    this.plan = this.planFor(this.parser.req);
    if (this.plan.kind === "local" && this.plan.close) this.close = true;
    return ParseResult.Plan;
  }

  acceptStream(): void {
    this.parser.acceptStream();
  }

  /**
   * The plan of a request whose large last argument is still arriving (a SET, APPEND, RPUSH,
   * HSET... of a big value), or undefined when it must arrive whole first: only a plain keyed
   * command of a RESP2 client outside MULTI, whose keys all come before that argument and
   * which nothing here reads beyond its keys (no subcommand, movable keys, split, local
   * answer, policy rewrite), forwarded as it stands.
   */
  private uploadPlan(req: RespRequest): Plan | undefined {
    const st = this.state;
    const cmd = req.cmd;
    if (cmd < 0 || req.inline || st.streaming === true || this.tx.open) return undefined;
    if (st.password !== undefined && !st.authenticated) return undefined;
    if (COMMANDS[cmd].hasSubcommands || isMovableKeys(cmd) || isSplitCommand(cmd)) return undefined;
    if (isLocal(cmd) || cmd === Id.WATCH || !arityOk(cmd, req.argc)) return undefined;
    const n = keyPositions(cmd, req, this.keys);
    if (n <= 0) return undefined;
    for (let i = 0; i < n; i++) if (this.keys[i] >= req.argc - 1) return undefined;
    const policy = this.limits.commandPolicy as RedisCommandPolicy | undefined;
    if (policy !== undefined && policy.check(req) !== req) return undefined;
    if (connClass(cmd, req) !== Conn.Shared) return undefined;
    const p = planRequest(req, st, this.keys, this.fwd);
    if (p.kind !== "forward" || p.conn !== Conn.Shared || p.rewrite !== undefined) return undefined;
    p.conn = Conn.Upload;
    // Its bytes are not kept: never sent twice.
    p.idempotent = false;
    return p;
  }

  failReply(_tag: number, _silent: boolean, message: string): Buffer {
    return errorReply(message);
  }

  private planFor(parsed: RespRequest): Plan {
    const st = this.state;
    if (st.password !== undefined && !st.authenticated && !allowedBeforeAuth(parsed.cmd)) {
      return local(NOAUTH);
    }
    // The pool's command policy (command-policy.ts): refused like an ACL denial, which in
    // MULTI also fails the transaction (redis: EXECABORT after a NOPERM while queuing).
    const policy = this.limits.commandPolicy as RedisCommandPolicy | undefined;
    const req = policy === undefined ? parsed : policy.check(parsed);
    if (Buffer.isBuffer(req)) {
      if (this.tx.open) this.tx.dirty = true;
      return local(req);
    }
    const cmd = req.cmd;
    if (st.streaming === true) return this.inStream(req, cmd);
    if (this.tx.open) return this.inTransaction(req, cmd);
    switch (cmd) {
      case Id.MULTI:
        if (req.argc !== 1) return local(wrongArity(cmd));
        this.tx.begin();
        return local(OK);
      case Id.EXEC:
        return local(errorReply("EXEC without MULTI"));
      case Id.DISCARD:
        return local(errorReply("DISCARD without MULTI"));
      case Id.WATCH:
        return this.watch(req);
      case Id.UNWATCH:
        return this.watching ? this.unwatch() : local(OK);
    }
    const resp3 = st.resp3;
    const r = localCommand(cmd, req, st, this.conn);
    if (r !== undefined) {
      if (r.reset) this.reset();
      // HELLO 2/3 or RESET switched the protocol: later requests go on the other backend
      // channel, so they wait for the replies still due on this one (driver.ts barrier).
      if (st.resp3 !== resp3) return { kind: "local", reply: r.reply, barrier: true };
      return local(r.reply, r.close);
    }
    return planRequest(req, st, this.keys, this.fwd);
  }

  /** RESET: the transaction, WATCH and any dedicated connection go (networking.c resetCommand). */
  private reset(): void {
    this.tx.clear();
    this.watching = false;
    this.state.dropDedicated?.();
  }

  /** WATCH key...: on a dedicated connection held until EXEC, DISCARD or UNWATCH. */
  private watch(req: RespRequest): Plan {
    if (req.argc < 2) return local(wrongArity(Id.WATCH));
    const st = this.state;
    let shard = 0;
    if (st.servers > 1) {
      const n = keyPositions(Id.WATCH, req, this.keys);
      shard = n > 0 ? sameShard(req, this.keys, n, st) : -1;
      if (shard < 0) return local(notSupported(req, CROSS_SHARD));
      if (this.watching && shard !== this.watchShard) {
        return local(
          notSupported(req, "its keys are on another server than the keys already watched"),
        );
      }
    }
    if (!this.watching) {
      this.watching = true;
      this.watchShard = shard;
      this.watchKey = Buffer.from(req.buf.subarray(req.argStart[1], req.argEnd[1]));
    }
    const p = planRequest(req, st, this.keys, this.fwd);
    if (p.kind !== "forward") return p;
    p.conn = Conn.Hold;
    p.idempotent = false;
    return p;
  }

  /** `body` on the WATCH connection, which is returned after the reply. */
  private onWatchConn(body: Buffer, expect: number): Plan {
    this.watching = false;
    // Routed by the watched key: the server holding the WATCH.
    return wholeForward(body, Conn.Release, expect, this.watchKey);
  }

  /** UNWATCH (or DISCARD after WATCH): both answer +OK. */
  private unwatch(): Plan {
    return this.onWatchConn(UNWATCH, 0);
  }

  /**
   * A client in subscriber mode or MONITOR (its dedicated connection is a stream): requests go
   * to the stream as they are, and the server answers them in the stream, as it would a direct
   * client. Connection commands the proxy owns (AUTH, HELLO, SELECT) are answered here; on a
   * pool of several servers a request for another server than the stream's closes the client
   * with the reason (its reply could not be put in order among the stream's).
   */
  private inStream(req: RespRequest, cmd: number): Plan {
    const st = this.state;
    switch (cmd) {
      case Id.RESET:
        this.reset();
        return local(localCommand(cmd, req, st, this.conn)!.reply);
      case Id.QUIT:
      case Id.AUTH:
      case Id.HELLO:
      case Id.SELECT: {
        const r = localCommand(cmd, req, st, this.conn)!;
        return local(r.reply, r.close);
      }
    }
    if (st.servers > 1 && cmd >= 0) {
      const eff = effectiveCommand(cmd, req);
      const ch = shardChannels(eff, req, this.keys);
      const n = ch >= 0 ? ch : keyPositions(cmd, req, this.keys);
      const shard =
        n > 0
          ? sameShard(req, this.keys, n, st)
          : isDesignatedPubSub(eff)
            ? st.shardOf(EMPTY, 0, 0)
            : st.dedicated;
      if (shard !== st.dedicated) {
        return local(
          notSupported(
            req,
            "this connection is in subscriber mode on another server; use another connection",
          ),
          true,
        );
      }
    }
    return streamForward(req);
  }

  /** Inside MULTI: queue (answering +QUEUED), refuse (marking the transaction), or finish. */
  private inTransaction(req: RespRequest, cmd: number): Plan {
    const tx = this.tx;
    switch (cmd) {
      case Id.EXEC:
        return this.exec(req);
      case Id.DISCARD:
        tx.clear();
        return this.watching ? this.unwatch() : local(OK);
      case Id.MULTI:
        return local(errorReply("MULTI calls can not be nested"));
      case Id.WATCH:
        return local(errorReply("WATCH inside MULTI is not allowed"));
      case Id.QUIT:
      case Id.RESET: {
        if (cmd === Id.RESET) this.reset();
        else tx.clear();
        const r = localCommand(cmd, req, this.state, this.conn);
        return local(r!.reply, r!.close);
      }
    }
    const refusal = this.queueRefusal(req, cmd);
    if (refusal !== undefined) {
      tx.dirty = true;
      return local(refusal);
    }
    const body = requestBody(req);
    if (tx.bytes + body.length > this.limits.maxRequestBytes) {
      tx.dirty = true;
      return local(
        errorReply(
          `transaction larger than ${this.limits.maxRequestBytes} bytes (max_request_bytes in the pool config)`,
        ),
      );
    }
    tx.queue(body, !req.inline);
    return local(QUEUED);
  }

  /** Why a command cannot join this transaction (the reply), or undefined: queue it. */
  private queueRefusal(req: RespRequest, cmd: number): Buffer | undefined {
    if (cmd < 0) return unknownCommand(req);
    if (!arityOk(cmd, req.argc)) return wrongArity(cmd);
    // PING and ECHO queue like any command (their replies belong in EXEC's array).
    if (cmd === Id.UNWATCH || cmd === Id.PING || cmd === Id.ECHO) return undefined;
    if (isLocal(cmd)) {
      return notSupported(req, "it changes connection state, which cannot be queued in MULTI");
    }
    const st = this.state;
    const eff = effectiveCommand(cmd, req);
    if (connClass(eff, req) === Conn.Stream) {
      return notSupported(req, "subscriber mode and MONITOR cannot be queued in MULTI");
    }
    if (st.servers <= 1) {
      const why = singleServerRefusal(cmd);
      return why === undefined ? undefined : notSupported(req, why);
    }
    if (hasFlag(eff, CmdFlag.pubsub)) return notSupported(req, keylessRefusal(eff));
    const n = keyPositions(cmd, req, this.keys);
    if (n === KEYS_UNSUPPORTED) {
      return notSupported(req, "its keys cannot be located from the command table");
    }
    if (n > 0) {
      const shard = sameShard(req, this.keys, n, st);
      if (shard < 0) return notSupported(req, CROSS_SHARD);
      if (this.watching && shard !== this.watchShard) {
        return notSupported(req, "its keys are on another server than the WATCHed keys");
      }
      if (this.tx.shard < 0) {
        const k = this.keys[0];
        this.tx.pin(shard, bodyOffset(req, k), req.argEnd[k] - req.argStart[k]);
      } else if (shard !== this.tx.shard) {
        return notSupported(req, "the keys of one transaction must all be on one server");
      }
      return undefined;
    }
    if (n < 0 || COMMANDS[eff].keySpecs.length > 0) return undefined;
    const kind = keylessKind(eff);
    if (kind === Keyless.Any) return undefined;
    if (kind !== undefined) {
      return notSupported(req, "it goes to every server, which cannot happen inside MULTI");
    }
    return notSupported(req, keylessRefusal(eff));
  }

  private exec(req: RespRequest): Plan {
    const tx = this.tx;
    if (req.argc !== 1) {
      tx.dirty = true;
      return local(wrongArity(Id.EXEC));
    }
    if (tx.dirty) {
      tx.clear();
      // EXEC unwatches even when aborted (multi.c execCommand): the WATCH connection goes.
      if (this.watching) this.reset();
      return local(EXECABORT);
    }
    const queued = tx.queued;
    if (this.watching) {
      // On the WATCH connection, empty or not: EXEC answers nil when a watched key changed.
      const body = tx.bundle();
      tx.clear();
      return this.onWatchConn(body, expectToken(1 + queued));
    }
    if (tx.queued === 0) {
      tx.clear();
      return local(EMPTY_EXEC);
    }
    // With no keyed command queued (PING, TIME...), the empty key's server.
    const keyStart = tx.shard < 0 ? 0 : tx.keyOffset;
    const keyEnd = tx.shard < 0 ? 0 : keyStart + tx.keyLength;
    const bundle = tx.bundle();
    tx.clear();
    return {
      kind: "forward",
      buf: bundle,
      keyStart,
      keyEnd,
      frameStart: 0,
      frameEnd: bundle.length,
      rewrite: bundle,
      silent: false,
      idempotent: false,
      readOnly: false,
      // MULTI's +OK and each +QUEUED come before EXEC's reply.
      expect: expectToken(1 + queued),
      conn: Conn.Shared,
    };
  }
}
