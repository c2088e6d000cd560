/**
 * Where the admin listener binds, and the rule that keeps it safe: loopback (or a unix socket)
 * by default; any other address only with a token, because the API can drain servers and move
 * the VIP: an unauthenticated network listener would let anyone who reaches it do that.
 */
import net from "node:net";
import { MIN_TOKEN_LENGTH } from "../config/schema/admin.js";
import type { Endpoint } from "../config/schema/common.js";
import { formatEndpoint } from "../config/schema/common.js";
import { ConfigError, UsageError } from "../errors.js";

export type AdminListen = Endpoint;

/** The default: loopback only. 9180 is unassigned by IANA and unused by the tools we replace. */
export const DEFAULT_ADMIN_LISTEN: AdminListen = { kind: "tcp", host: "127.0.0.1", port: 9180 };

/**
 * "HOST:PORT", "[V6]:PORT" or "/path/to/sock", as `--admin` takes it. Port 0 means any free
 * port (tests, `keepcache up`). Kept free of the config schema so `keepcache node` starts
 * without loading zod; the YAML `admin.listen` goes through listenSchema instead.
 */
export function parseAdminListen(flag: string, text: string): AdminListen {
  if (text.startsWith("/")) return { kind: "unix", path: text, mode: undefined };
  const c = text.lastIndexOf(":");
  const portText = text.slice(c + 1);
  let host = c > 0 ? text.slice(0, c) : "";
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : -1;
  if (host === "" || port < 0 || port > 65535) {
    throw new UsageError(`${flag}: '${text}' is not HOST:PORT (e.g. 127.0.0.1:9180)`);
  }
  return { kind: "tcp", host, port };
}

/** True for 127.0.0.0/8, ::1, IPv4-mapped loopback and "localhost" names. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (net.isIPv4(h)) return h.startsWith("127.");
  if (net.isIPv6(h)) {
    if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped?.[1].startsWith("127.") === true;
  }
  return false;
}

export function isLocalListen(l: AdminListen): boolean {
  return l.kind === "unix" || isLoopbackHost(l.host);
}

/**
 * Refuses a token shorter than MIN_TOKEN_LENGTH: it guards the API, the dashboard and the
 * metrics, and a short one is guessed. (A config file's token is checked by its schema too,
 * with its line; this covers KEEPCACHE_ADMIN_TOKEN.)
 */
export function assertTokenLength(token: string | undefined, source: string, key: string): void {
  if (token === undefined || token.length >= MIN_TOKEN_LENGTH) return;
  throw new ConfigError(
    source,
    undefined,
    key,
    `must be at least ${MIN_TOKEN_LENGTH} characters (got ${token.length}; KEEPCACHE_ADMIN_TOKEN too); 'openssl rand -hex 16' makes one`,
  );
}

/**
 * Refuses a network-reachable listener without a token. `source` names where the setting
 * came from (a config file or "--admin") so the message points at what to change.
 */
export function assertSafeListen(l: AdminListen, token: string | undefined, source: string): void {
  if (isLocalListen(l) || (token !== undefined && token !== "")) return;
  throw new ConfigError(
    source,
    undefined,
    "admin.listen",
    `${formatEndpoint(l)} is reachable from the network, and the admin API can drain servers and move the VIP; set admin.token (clients then send 'Authorization: Bearer <token>') or listen on 127.0.0.1`,
  );
}
