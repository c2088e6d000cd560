/**
 * Who may read and who may act.
 *
 * With a token configured every request needs it, except the liveness and readiness probes
 * (`/healthz`, `/readyz`, which an orchestrator calls without secrets) and the login form:
 *   - `Authorization: Bearer <token>` (RFC 6750 section 2.1) from programs;
 *   - `/metrics` also takes `metrics_token`, a scrape-only secret for Prometheus
 *     (`authorization: { credentials: ... }` in its scrape config), which opens nothing else;
 *   - browsers log in once with the token (/login) and then send a session cookie, derived
 *     from the token (never the token itself), HttpOnly and SameSite=Strict (RFC 6265bis
 *     section 5.4.7), so the dashboard's fetch() and EventSource (which cannot set headers)
 *     carry it and no other site's requests do.
 * Without a token the listener is loopback-only (http.ts refuses otherwise), and two
 * browser-side attacks on a loopback API remain, which we close here:
 *   - DNS rebinding (a foreign name resolving to 127.0.0.1), for reads as for actions: the Host
 *     header must be a loopback name;
 *   - cross-site requests from a page the operator has open: actions must send
 *     `Content-Type: application/json` (not a CORS "simple" request, so a foreign page's
 *     fetch needs a preflight we never grant) and a foreign `Origin` is refused.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isLoopbackHost } from "./listen.js";

export type AuthOutcome =
  | { ok: true; principal: string }
  | { ok: false; status: number; error: string };

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** Constant-time comparison of two secrets of any length (both hashed first). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** "host:port" / "[v6]:port" / "host" -> host. */
function hostOf(header: string): string {
  if (header.startsWith("[")) return header.slice(1, header.indexOf("]"));
  const c = header.lastIndexOf(":");
  return c >= 0 && header.indexOf(":") === c ? header.slice(0, c) : header;
}

/** The secrets of one admin listener. */
export interface AdminSecrets {
  token: string | undefined;
  /** Accepted on /metrics only. */
  metricsToken?: string | undefined;
}

/** Paths served to anyone: probes carry no secrets, and the login form asks for one. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/login"]);

export const SESSION_COOKIE = "keepcache_admin";

/** The session cookie's value for a token: a MAC of it, so the cookie never holds the token. */
export function sessionValue(token: string): string {
  return createHmac("sha256", token).update("keepcache admin session").digest("base64url");
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Credentials for any request to `path` (actions check more first: authorizeAction). */
export function authorizeRequest(
  req: IncomingMessage,
  path: string,
  secrets: AdminSecrets,
): AuthOutcome {
  const { token, metricsToken } = secrets;
  if (token === undefined) {
    const host = req.headers.host ?? "";
    if (!isLoopbackHost(hostOf(host))) {
      return { ok: false, status: 403, error: `Host '${host}' is not a loopback name` };
    }
    return { ok: true, principal: "loopback" };
  }
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  if (m !== null) {
    if (sameSecret(m[1], token)) return { ok: true, principal: "token" };
    if (path === "/metrics" && metricsToken !== undefined && sameSecret(m[1], metricsToken))
      return { ok: true, principal: "metrics" };
    return { ok: false, status: 401, error: "wrong token" };
  }
  const session = cookie(req, SESSION_COOKIE);
  if (session !== undefined && sameSecret(session, sessionValue(token)))
    return { ok: true, principal: "session" };
  return { ok: false, status: 401, error: "this needs 'Authorization: Bearer <token>'" };
}

export function authorizeAction(req: IncomingMessage, secrets: AdminSecrets): AuthOutcome {
  const origin = req.headers.origin;
  const host = req.headers.host ?? "";
  if (origin !== undefined && origin !== "null") {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return { ok: false, status: 403, error: "malformed Origin header" };
    }
    if (originHost !== host) {
      return { ok: false, status: 403, error: `cross-origin action from ${origin} refused` };
    }
  }
  const ctype = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (ctype !== "application/json") {
    return {
      ok: false,
      status: 415,
      error: "actions need 'Content-Type: application/json' (an empty body is fine)",
    };
  }
  // The scrape token opens /metrics only, never an action.
  return authorizeRequest(req, "", secrets);
}
