/**
 * The Redis protocol driver (driver.ts ProtocolDriver): what the protocol-blind proxy core
 * needs to serve a `redis: true` pool. Request planning lives in client-parser.ts and
 * planner.ts, reply framing in reply-framer.ts.
 */
import { encodeRequest, errorReply } from "../../protocol/resp/encoder.js";
import type {
  ClientParser,
  ClientState,
  DriverLimits,
  ProtocolDriver,
  ReplyFramer,
} from "../driver.js";
import { RedisClientParser } from "./client-parser.js";
import { EXPECT_ONE } from "./planner.js";
import { RedisReplyFramer } from "./reply-framer.js";

/** A request made of string arguments (handshake and probe only; not the hot path). */
function command(...args: string[]): Buffer {
  const bufs = args.map((a) => Buffer.from(a));
  const joined = Buffer.concat(bufs);
  const argStart: number[] = [];
  const argEnd: number[] = [];
  let off = 0;
  for (const b of bufs) {
    argStart.push(off);
    off += b.length;
    argEnd.push(off);
  }
  return encodeRequest({ buf: joined, argc: bufs.length, argStart, argEnd });
}

const PING = command("PING");
const PONG = Buffer.from("+PONG\r\n");

export const redisDriver: ProtocolDriver = {
  name: "redis",

  newClientParser(limits: DriverLimits, state: ClientState): ClientParser {
    return new RedisClientParser(limits, state);
  },

  newReplyFramer(): ReplyFramer {
    return new RedisReplyFramer();
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
   * redis_add_select, sent on every new server connection before any client request).
   */
  handshake(pool: { redisAuth?: string; redisDb?: number }) {
    const out: Array<{ request: Buffer; expect: number }> = [];
    if (pool.redisAuth !== undefined && pool.redisAuth !== "") {
      out.push({ request: command("AUTH", pool.redisAuth), expect: EXPECT_ONE });
    }
    if (pool.redisDb !== undefined && pool.redisDb !== 0) {
      out.push({ request: command("SELECT", String(pool.redisDb)), expect: EXPECT_ONE });
    }
    return out;
  },
};
