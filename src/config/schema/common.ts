/**
 * Shapes shared by every config section: endpoints ("host:port" or a unix path), durations
 * and counts. Parsing of the twemproxy address forms follows nc_conf.c (conf_set_listen,
 * conf_add_server), which splits from the END of the string, so IPv6 literals work there only
 * without brackets in the host part and hostnames are resolved lazily.
 */
import { z } from "zod";

/** A TCP address or a unix-domain socket path. */
export type Endpoint =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "unix"; path: string; mode: number | undefined };

/** nc_util.c nc_valid_port: 1..65535. */
export function validPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/**
 * nc_atoi: a run of ASCII digits only (no sign, no spaces); anything else is "not a number"
 * (-1 in twemproxy).
 */
export function atoi(s: string): number {
  if (!/^[0-9]+$/.test(s)) return -1;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : -1;
}

/** "host:port", splitting at the last ':' like conf_set_listen; "[v6]:port" is unbracketed. */
export function parseHostPort(s: string): { kind: "tcp"; host: string; port: number } | string {
  const q = s.lastIndexOf(":");
  if (q <= 0) return 'has an invalid "hostname:port" format string';
  const port = atoi(s.slice(q + 1));
  if (!validPort(port)) return 'has an invalid port in "hostname:port" format string';
  let host = s.slice(0, q);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { kind: "tcp", host, port };
}

/**
 * The inverse of parseHostPort: "host:port", with an IPv6 literal in brackets ("[::1]:6379",
 * RFC 3986 §3.2.2) so the port stays separable.
 */
export function formatHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** An endpoint as text: formatHostPort for TCP, the path for a unix socket. */
export function formatEndpoint(
  e: { kind: "tcp"; host: string; port: number } | { kind: "unix"; path: string },
): string {
  return e.kind === "tcp" ? formatHostPort(e.host, e.port) : e.path;
}

/**
 * A listen address: "host:port" or "/path/to/sock [mode]" (octal mode, at most 0777), as
 * conf_set_listen accepts.
 */
export function parseListen(s: string): Endpoint | string {
  if (s.startsWith("/")) {
    const sp = s.lastIndexOf(" ");
    if (sp < 0) return { kind: "unix", path: s, mode: undefined };
    const permText = s.slice(sp + 1);
    const mode = /^[0-7]+$/.test(permText) ? Number.parseInt(permText, 8) : Number.NaN;
    if (!(mode >= 0 && mode <= 0o777))
      return 'has an invalid file permission in "socket_path permission" format string';
    return { kind: "unix", path: s.slice(0, sp), mode };
  }
  const hp = parseHostPort(s);
  return hp;
}

/** Zod: a string parsed by `parse`, reporting its message (twemproxy wording) on failure. */
export function parsedString<T>(parse: (s: string) => T | string, what: string) {
  return z.string({ error: `must be a string (${what})` }).transform((s, ctx) => {
    const r = parse(s);
    if (typeof r === "string") {
      ctx.issues.push({ code: "custom", message: `${r} (expected ${what})`, input: s });
      return z.NEVER;
    }
    return r;
  });
}

export const listenSchema = parsedString(parseListen, '"host:port" or "/path/to/sock [mode]"');
export const hostPortSchema = parsedString(parseHostPort, '"host:port"');

/** Non-negative integer (milliseconds, counts): twemproxy's conf_set_num accepts >= 0. */
export const uint = z.int({ error: "must be a non-negative integer" }).min(0, {
  error: "must be a non-negative integer",
});
/** Positive integer. */
export const posInt = z.int({ error: "must be a positive integer" }).min(1, {
  error: "must be a positive integer",
});
export const ms = uint;

/**
 * A free-text value. twemproxy and keepalived see every scalar as text, so `redis_auth: 1234`
 * or `auth_pass: 1111` unquoted must mean the string, not fail as a number.
 */
export const text = z
  .preprocess(
    (v) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v),
    z.string({ error: "must be a string" }),
  )
  // The JSON Schema shows what is accepted, so editors do not flag `auth_pass: 1111`.
  .meta({ type: ["string", "number", "boolean"] });

/** TLS material: file paths. */
export const tlsSchema = z.strictObject({
  cert: z.string().optional(),
  key: z.string().optional(),
  ca: z.string().optional(),
  servername: z.string().optional(),
});
export type TlsConfig = z.output<typeof tlsSchema>;
