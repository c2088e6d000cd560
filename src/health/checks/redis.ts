/**
 * Redis liveness: `PING` → `+PONG`, or `ROLE` to learn master/replica (redis.io ROLE: the first
 * element of the reply array is "master", "slave" or "sentinel"). `-LOADING` (dataset still
 * loading) and `-MASTERDOWN` (replica lost its master with replica-serve-stale-data no) mean the
 * server cannot serve and count as down, as in Sentinel's own PING handling (sentinel.c).
 */
import { ParseStatus } from "../../protocol/resp/parser.js";
import { RespReplyFramer } from "../../protocol/resp/reply.js";
import type { CheckFn, CheckTarget } from "../types.js";
import { lineFrame } from "./conn.js";
import { CheckLink } from "./link.js";
import { fail, pass, stopwatch } from "./result.js";

export interface RedisCheckOptions {
  command?: "ping" | "role";
  /** If set, the check fails unless the server reports this role. */
  role?: "master" | "replica";
  password?: string;
  /** ACL user (Redis 6+) for AUTH user password. */
  username?: string;
  /** The server's kept connection (redisLink); without one the check connects and closes. */
  link?: CheckLink;
}

/**
 * Frame test for one whole reply (ROLE's array included), so a kept connection stays in step
 * with the server. The proxy's RESP framer does the work; replies to checks are small, so
 * framing the unread bytes again when more arrive costs nothing that matters.
 */
export function replyFrame(buf: Buffer): number {
  const f = new RespReplyFramer({ maxDepth: 8, maxBulkLen: 1024 * 1024 });
  f.feed(buf);
  if (f.next() !== ParseStatus.Ok) return 0;
  return f.reply.frameEnd - f.reply.frameStart;
}

function authCommand(o: RedisCheckOptions): string {
  const args = o.username ? ["AUTH", o.username, o.password ?? ""] : ["AUTH", o.password ?? ""];
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

/** A kept link to a Redis server, authenticated once per connection (as Sentinel does). */
export function redisLink(target: CheckTarget, o: RedisCheckOptions): CheckLink {
  if (o.password === undefined) return new CheckLink(target);
  return new CheckLink(target, async (c, signal) => {
    c.write(authCommand(o));
    const a = (await c.read(lineFrame, signal)).toString("latin1").trimEnd();
    if (!a.startsWith("+OK")) throw new Error(`AUTH: ${a.slice(0, 80)}`);
  });
}

export const redisCheck: CheckFn<RedisCheckOptions> = async (target, options, signal) => {
  const elapsed = stopwatch();
  const link = options.link ?? redisLink(target, options);
  try {
    const useRole = options.command === "role" || options.role !== undefined;
    const frame = await link.use(signal, async (c) => {
      c.write(useRole ? "ROLE\r\n" : "PING\r\n");
      return (await c.read(replyFrame, signal)).toString("latin1");
    });
    if (frame.startsWith("-")) return fail(elapsed, frame.slice(1).trimEnd().slice(0, 80));
    if (!useRole) {
      return frame.startsWith("+PONG")
        ? pass(elapsed, "PONG")
        : fail(elapsed, `unexpected reply: ${frame.trimEnd().slice(0, 80)}`);
    }
    const m = /^\*\d+\r\n\$\d+\r\n([a-z]+)\r\n/.exec(frame);
    if (!m) return fail(elapsed, `unexpected ROLE reply: ${frame.trimEnd().slice(0, 80)}`);
    const role = m[1] === "slave" ? "replica" : m[1];
    if (options.role !== undefined && role !== options.role)
      return fail(elapsed, `role=${role}, want ${options.role}`);
    return pass(elapsed, `role=${role}`);
  } catch (e) {
    return fail(elapsed, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  } finally {
    if (options.link === undefined) link.close();
  }
};
