/**
 * Opening a listening socket, the one way every listener of keepcache does it: resolve once
 * the socket listens, or reject with a ListenError that names what the port is for, its
 * address and the cause (EADDRINUSE, EACCES...), which the CLI prints as its one line before
 * exiting (src/cli/main.ts). Startup never continues with a port missing.
 */
import type net from "node:net";
import { ListenError } from "../errors.js";

export type ListenAt =
  | { host: string; port: number; backlog?: number }
  | { path: string; backlog?: number };

export function formatListenAt(at: ListenAt): string {
  if ("path" in at) return at.path;
  return at.host.includes(":") ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
}

/**
 * `server.listen(at)`; `what` names the listener in the error ("replication port"). The
 * server's own 'error' listeners (which log a running listener's errors, stack included) are
 * set aside meanwhile: a failed listen is this promise's result, reported once, in one line.
 */
export function listenOn(server: net.Server, at: ListenAt, what: string): Promise<void> {
  const others = server.listeners("error") as ((err: Error) => void)[];
  server.removeAllListeners("error");
  const restore = () => {
    server.removeAllListeners("error");
    for (const l of others) server.on("error", l);
  };
  return new Promise((resolve, reject) => {
    server.once("error", (err: Error) => {
      restore();
      reject(new ListenError(what, formatListenAt(at), err));
    });
    server.listen(at, () => {
      restore();
      resolve();
    });
  });
}
