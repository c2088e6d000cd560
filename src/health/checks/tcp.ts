/**
 * TCP_CHECK (keepalived) / plain `check` (HAProxy): the port accepts a connection. Accepting
 * is the point, so every check opens a new connection. It is closed with a reset, as HAProxy
 * closes its health-check connections: a normal close would leave our side in TIME-WAIT for
 * 60 s per check (RFC 9293 section 3.6.1), thousands of ports for a fast interval.
 */
import net from "node:net";
import type { CheckFn } from "../types.js";
import { abortDetail, fail, pass, stopwatch } from "./result.js";

export type TcpCheckOptions = Record<string, never>;

export const tcpCheck: CheckFn<TcpCheckOptions> = (target, _options, signal) => {
  const elapsed = stopwatch();
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(fail(elapsed, abortDetail(signal)));
    const sock = net.connect({ host: target.host, port: target.port });
    const done = (ok: boolean, detail: string) => {
      signal.removeEventListener("abort", onAbort);
      if (ok) sock.resetAndDestroy();
      else sock.destroy();
      resolve(ok ? pass(elapsed, detail) : fail(elapsed, detail));
    };
    const onAbort = () => done(false, abortDetail(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    sock.once("connect", () => done(true, "connected"));
    sock.once("error", (e: NodeJS.ErrnoException) => done(false, e.code ?? e.message));
  });
};
