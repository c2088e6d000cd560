/**
 * HAProxy `option mysql-check [user <name>]`: read the server greeting (Protocol::HandshakeV10);
 * an ERR packet (0xff, e.g. "Host is blocked", "Too many connections") fails. With a user, log
 * in and require an OK packet, then send COM_QUIT so the server does not count an aborted
 * connection (which would eventually trip max_connect_errors and block the checker's host).
 * Each check is a new connection, as HAProxy's: the greeting and login are what is checked.
 */
import type { CheckFn } from "../types.js";
import { CheckConnection } from "./conn.js";
import {
  COM_QUIT,
  handshakeResponse,
  isErr,
  nativePassword,
  packet,
  packetFrame,
  packetPayload,
  parseAuthSwitch,
  parseErr,
  parseGreeting,
} from "./mysql-packets.js";
import { fail, pass, stopwatch } from "./result.js";

export interface MysqlCheckOptions {
  user?: string;
  password?: string;
}

export const mysqlCheck: CheckFn<MysqlCheckOptions> = async (target, o, signal) => {
  const elapsed = stopwatch();
  let c: CheckConnection | undefined;
  try {
    c = await CheckConnection.open(target, signal);
    const first = await c.read(packetFrame, signal);
    const p = packetPayload(first);
    if (isErr(p)) {
      const e = parseErr(p);
      return fail(elapsed, `ERR ${e.code} ${e.message}`);
    }
    const g = parseGreeting(p);
    if (!g) return fail(elapsed, `not a MySQL v10 greeting (first byte ${p[0]})`);
    if (o.user === undefined) return pass(elapsed, `greeting ${g.serverVersion}`);
    let seq = (first[3] + 1) & 0xff;
    c.write(packet(seq, handshakeResponse(o.user, o.password ?? "", g)));
    for (let round = 0; round < 3; round++) {
      const f = await c.read(packetFrame, signal);
      const r = packetPayload(f);
      seq = (f[3] + 1) & 0xff;
      if (r[0] === 0x00) {
        c.write(packet(0, COM_QUIT));
        return pass(elapsed, `login ok ${g.serverVersion}`);
      }
      if (isErr(r)) {
        const e = parseErr(r);
        return fail(elapsed, `ERR ${e.code} ${e.message}`);
      }
      const sw = parseAuthSwitch(r);
      if (sw?.plugin !== "mysql_native_password")
        return fail(elapsed, `unsupported auth step (${sw?.plugin ?? r[0]})`);
      c.write(packet(seq, nativePassword(o.password ?? "", sw.data)));
    }
    return fail(elapsed, "too many auth rounds");
  } catch (e) {
    return fail(elapsed, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  } finally {
    c?.close();
  }
};
