/**
 * Redis liveness: `PING` → `+PONG`, or `ROLE` to learn master/replica (redis.io ROLE: the first
 * element of the reply array is "master", "slave" or "sentinel"). `-LOADING` (dataset still
 * loading) and `-MASTERDOWN` (replica lost its master with replica-serve-stale-data no) mean the
 * server cannot serve and count as down, as in Sentinel's own PING handling (sentinel.c).
 */
import type { CheckFn } from "../types.js";
import { CheckConnection, lineFrame } from "./conn.js";
import { fail, pass, stopwatch } from "./result.js";

export interface RedisCheckOptions {
  command?: "ping" | "role";
  /** If set, the check fails unless the server reports this role. */
  role?: "master" | "replica";
  password?: string;
  /** ACL user (Redis 6+) for AUTH user password. */
  username?: string;
}

/**
 * Frame test for the start of a reply: a status/error line, or an array header followed by its
 * first bulk string (all the ROLE check needs). Pure; returns 0 until enough bytes are present.
 */
export function firstElementFrame(buf: Buffer): number {
  const first = lineFrame(buf);
  if (first === 0) return 0;
  if (buf[0] !== 0x2a /* '*' */) return first;
  const rest = buf.subarray(first);
  const hdr = lineFrame(rest);
  if (hdr === 0) return 0;
  if (rest[0] !== 0x24 /* '$' */) return first + hdr;
  const len = Number(rest.subarray(1, hdr - 2).toString("latin1"));
  if (!Number.isFinite(len) || len < 0) return first + hdr;
  const need = first + hdr + len + 2;
  return buf.length >= need ? need : 0;
}

function authCommand(o: RedisCheckOptions): string {
  const args = o.username ? ["AUTH", o.username, o.password ?? ""] : ["AUTH", o.password ?? ""];
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

export const redisCheck: CheckFn<RedisCheckOptions> = async (target, options, signal) => {
  const elapsed = stopwatch();
  let c: CheckConnection | undefined;
  try {
    c = await CheckConnection.open(target, signal);
    if (options.password !== undefined) {
      c.write(authCommand(options));
      const a = (await c.read(lineFrame)).toString("latin1").trimEnd();
      if (!a.startsWith("+OK")) return fail(elapsed, `AUTH: ${a.slice(0, 80)}`);
    }
    const useRole = options.command === "role" || options.role !== undefined;
    c.write(useRole ? "ROLE\r\n" : "PING\r\n");
    const frame = (await c.read(firstElementFrame)).toString("latin1");
    if (frame.startsWith("-")) return fail(elapsed, frame.slice(1).trimEnd().slice(0, 80));
    if (!useRole) {
      return frame.startsWith("+PONG")
        ? pass(elapsed, "PONG")
        : fail(elapsed, `unexpected reply: ${frame.trimEnd().slice(0, 80)}`);
    }
    const m = /^\*\d+\r\n\$\d+\r\n([a-z]+)\r\n$/.exec(frame);
    if (!m) return fail(elapsed, `unexpected ROLE reply: ${frame.trimEnd().slice(0, 80)}`);
    const role = m[1] === "slave" ? "replica" : m[1];
    if (options.role !== undefined && role !== options.role)
      return fail(elapsed, `role=${role}, want ${options.role}`);
    return pass(elapsed, `role=${role}`);
  } catch (e) {
    return fail(elapsed, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  } finally {
    c?.close();
  }
};
