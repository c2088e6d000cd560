/**
 * The Redis protocol driver (driver.ts ProtocolDriver): what the protocol-blind proxy core
 * needs to serve a `redis: true` pool. Request planning lives in client-parser.ts and
 * planner.ts, reply framing in reply-framer.ts.
 */
import { encodeCommand, errorReply } from "../../protocol/resp/encoder.js";
import type {
  ClientParser,
  ClientState,
  DriverLimits,
  HandshakeStep,
  ProtocolDriver,
  ReplyFramer,
} from "../driver.js";
import { RedisClientParser } from "./client-parser.js";
import { RedisCommandPolicy } from "./command-policy.js";
import { EXPECT_ONE, RESP3_CHANNEL } from "./planner.js";
import { redisReplyClass } from "./reply-class.js";
import { RedisReplyFramer } from "./reply-framer.js";

/** A request made of string arguments (handshake and probe only; not the hot path). */
const command = encodeCommand;

const PING = command("PING");
const HELLO3 = command("HELLO", "3");
const OK = Buffer.from("+OK\r\n");
const isOk = (r: Buffer): boolean => r.equals(OK);
/** A reply's first line, for a log or error text. */
const line = (r: Buffer): string =>
  r.toString("latin1", 0, Math.min(r.length, 200)).split("\r\n")[0];
const PONG = Buffer.from("+PONG\r\n");

export const redisDriver: ProtocolDriver = {
  name: "redis",
  replyClass: redisReplyClass,
  replicaSet: { singleWriter: true, retryReadErrors: false, fenceAcks: true },

  newClientParser(limits: DriverLimits, state: ClientState): ClientParser {
    return new RedisClientParser(limits, state);
  },

  newReplyFramer(shared?: boolean): ReplyFramer {
    return new RedisReplyFramer(shared === true);
  },

  /**
   * A RESP3 client's backend connections (RESP3_CHANNEL) say HELLO 3 once, after AUTH and
   * SELECT: the server then encodes every reply on them in RESP3 (maps, sets, doubles, `_`
   * nulls), so a RESP3 client's requests pass through as they are, as a RESP2 client's do.
   * A server that refuses (before Redis 6: no HELLO) fails the connection with its answer.
   */
  channelHandshake(channel: number): HandshakeStep[] {
    if (channel !== RESP3_CHANNEL) return [];
    return [
      {
        request: HELLO3,
        expect: EXPECT_ONE,
        check: (r) =>
          r[0] === 0x25 ? undefined : `HELLO 3 (a RESP3 client's connection): ${line(r)}`,
      },
    ];
  },

  /** `-ERR <message>`, message naming the backend and the reason (one line). */
  errorReply(message: string): Buffer {
    return errorReply(message);
  },

  /** PING answered by +PONG (a -LOADING or -MASTERDOWN reply is a failed probe). */
  probe() {
    return {
      request: PING,
      expect: EXPECT_ONE,
      ok: (reply: Buffer) => reply.length === PONG.length && reply.equals(PONG),
    };
  },

  /**
   * AUTH redis_auth, then SELECT redis_db when it is not 0 (nc_redis.c redis_add_auth and
   * redis_add_select, sent on every new server connection before any client request). A
   * refused SELECT fails the connection: served anyway, it would reach database 0. With
   * redis_user the connection authenticates as that ACL user instead, and must then be
   * refused a SELECT of another database: that ACL rule is what confines scripts (see
   * command-policy.ts), so a user without it fails every connection, loudly.
   */
  handshake(pool: {
    redisAuth?: string;
    redisDb?: number;
    redisUser?: { name: string; password: string };
  }): HandshakeStep[] {
    const out: HandshakeStep[] = [];
    const db = pool.redisDb ?? 0;
    if (pool.redisUser !== undefined) {
      const u = pool.redisUser;
      out.push({
        request: command("AUTH", u.name, u.password),
        expect: EXPECT_ONE,
        check: (r) => (isOk(r) ? undefined : `AUTH as redis_user ${u.name}: ${line(r)}`),
      });
    } else if (pool.redisAuth !== undefined && pool.redisAuth !== "") {
      out.push({ request: command("AUTH", pool.redisAuth), expect: EXPECT_ONE });
    }
    if (db !== 0 || pool.redisUser !== undefined) {
      out.push({
        request: command("SELECT", String(db)),
        expect: EXPECT_ONE,
        check: (r) => (isOk(r) ? undefined : `SELECT ${db} (redis_db): ${line(r)}`),
      });
    }
    if (pool.redisUser !== undefined) {
      const other = db === 0 ? 1 : 0;
      out.push({
        request: command("SELECT", String(other)),
        expect: EXPECT_ONE,
        // ACL denial is checked before the command runs (server.c processCommand), so NOPERM
        // comes even for a database number the server does not have.
        check: (r) =>
          r.subarray(0, 8).toString("latin1") === "-NOPERM "
            ? undefined
            : `redis_user ${pool.redisUser?.name} may SELECT ${other}; its ACL rules must deny SELECT of any database but ${db} (-select +select|${db})`,
      });
    }
    return out;
  },

  commandPolicy(pool) {
    return new RedisCommandPolicy(pool);
  },
};
