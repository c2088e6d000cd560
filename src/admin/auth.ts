/**
 * Who may run an action. With a token configured, `Authorization: Bearer <token>` (RFC 6750
 * section 2.1) is required. Without one the listener is loopback-only (http.ts refuses
 * otherwise), and two browser-side attacks on a loopback API remain, which we close here:
 *   - cross-site requests from a page the operator has open: actions must send
 *     `Content-Type: application/json` (not a CORS "simple" request, so a foreign page's
 *     fetch needs a preflight we never grant) and a foreign `Origin` is refused;
 *   - DNS rebinding (a foreign name resolving to 127.0.0.1): the Host header must then be a
 *     loopback name.
 */
import { createHash, timingSafeEqual } from "node:crypto";
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

export function authorizeAction(req: IncomingMessage, token: string | undefined): AuthOutcome {
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
  if (token === undefined) {
    if (!isLoopbackHost(hostOf(host))) {
      return { ok: false, status: 403, error: `Host '${host}' is not a loopback name` };
    }
    return { ok: true, principal: "loopback" };
  }
  const auth = req.headers.authorization ?? "";
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(auth);
  if (m === null) {
    return { ok: false, status: 401, error: "this action needs 'Authorization: Bearer <token>'" };
  }
  if (!sameSecret(m[1], token)) return { ok: false, status: 401, error: "wrong token" };
  return { ok: true, principal: "token" };
}
