/**
 * Command ids the Redis driver switches on, resolved once from Redis' own table
 * (protocol/resp/commands.ts). A name missing from the table is a bug here, so it throws.
 */
import { commandId } from "../../protocol/resp/commands.js";

function id(name: string): number {
  const v = commandId(name);
  if (v < 0) throw new Error(`redis command table has no '${name}'`);
  return v;
}

export const Id = {
  PING: id("ping"),
  ECHO: id("echo"),
  QUIT: id("quit"),
  SELECT: id("select"),
  AUTH: id("auth"),
  HELLO: id("hello"),
  CLIENT: id("client"),
  CLIENT_SETNAME: id("client|setname"),
  RESET: id("reset"),
  MULTI: id("multi"),
  EXEC: id("exec"),
  DISCARD: id("discard"),
  WATCH: id("watch"),
  UNWATCH: id("unwatch"),
  MGET: id("mget"),
  MSET: id("mset"),
  DEL: id("del"),
  UNLINK: id("unlink"),
  EXISTS: id("exists"),
  TOUCH: id("touch"),
} as const;
