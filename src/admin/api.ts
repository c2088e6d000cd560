/**
 * The admin HTTP routes. Reads are open (the listener is loopback unless a token is set);
 * every action goes through authorizeAction, is routed to the ActionRegistry, logged (who,
 * what, result) and recorded in the event ring. Errors are JSON: {"error": "..."}.
 *
 *   GET  /healthz                                  200 "ok": the process is alive
 *   GET  /readyz                                   200 or 503 with the failing check names
 *   GET  /                                         dashboard
 *   GET  /metrics                                  Prometheus text format
 *   GET  /api/v1/status                            StatusDocument
 *   GET  /api/v1/events?after=SEQ&limit=N          recent events, oldest first
 *   GET  /api/v1/stream                            SSE: status every second, events at once
 *   POST /api/v1/servers/{pool}/{server}/{disable|enable|drain}
 *   POST /api/v1/servers/{pool}/{server}/weight    {"weight": N}
 *   POST /api/v1/pools/{pool}/failover             {"shard"?: name, "to"?: server}
 *   POST /api/v1/vrrp/{instance}/backup                hold in BACKUP (the peer takes the VIP)
 *   POST /api/v1/vrrp/{instance}/release               end that hold
 *   POST /api/v1/nodes/{name}/{stop|start}
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log.js";
import { type Action, ActionError, type ActionRegistry, describeAction } from "./actions.js";
import { authorizeAction } from "./auth.js";
import type { EventRing } from "./events.js";
import type { ReadyChecks } from "./ready.js";
import type { MetricsRegistry } from "./registry.js";
import type { StatusStream } from "./sse.js";
import type { StatusDocument } from "./status.js";

export interface ApiContext {
  token: string | undefined;
  log: Logger;
  metrics: MetricsRegistry;
  status: () => StatusDocument;
  events: EventRing;
  actions: ActionRegistry;
  ready: ReadyChecks;
  stream: StatusStream;
  dashboardHtml: string;
}

const MAX_BODY = 64 * 1024;

/**
 * The dashboard's Content-Security-Policy: nothing may load from anywhere but this listener,
 * which both documents and enforces "no external assets" (no CDN exists where it runs).
 */
const DASHBOARD_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, error: string, extra = {}): void {
  sendJson(res, status, { error, ...extra });
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ActionError(400, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ActionError(400, "request body is not valid JSON");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new ActionError(400, "request body must be a JSON object");
  }
  return v as Record<string, unknown>;
}

/** Path segments, percent-decoded (names may hold any character). */
function segments(pathname: string): string[] | undefined {
  try {
    return pathname
      .split("/")
      .filter((s) => s !== "")
      .map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** The action a POST path names, or undefined when the path is no action route. */
function parseAction(seg: string[], body: Record<string, unknown>): Action | undefined {
  if (seg[0] !== "api" || seg[1] !== "v1") return undefined;
  const [, , what, a, b, c] = seg;
  if (what === "servers" && seg.length === 6) {
    if (c === "disable" || c === "enable" || c === "drain") {
      return { kind: "server", pool: a, server: b, op: c };
    }
    if (c === "weight") {
      const w = body.weight;
      if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > 65535) {
        throw new ActionError(400, 'body must be {"weight": an integer 0..65535}');
      }
      return { kind: "server", pool: a, server: b, op: "weight", weight: w };
    }
  }
  if (what === "pools" && seg.length === 5 && b === "failover") {
    const act: Action = { kind: "pool", pool: a, op: "failover" };
    for (const k of ["shard", "to"] as const) {
      const v = body[k];
      if (v === undefined) continue;
      if (typeof v !== "string" || v === "") throw new ActionError(400, `"${k}" must be a name`);
      act[k] = v;
    }
    return act;
  }
  if (what === "vrrp" && seg.length === 5 && (b === "backup" || b === "release")) {
    return { kind: "vrrp", instance: a, op: b };
  }
  if (what === "nodes" && seg.length === 5 && (b === "stop" || b === "start")) {
    return { kind: "node", node: a, op: b };
  }
  return undefined;
}

const GET_ROUTES = new Set([
  "/",
  "/index.html",
  "/metrics",
  "/api/v1/status",
  "/api/v1/events",
  "/api/v1/stream",
]);

export async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ApiContext,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://admin.invalid");
  const path = url.pathname;
  const method = req.method ?? "GET";
  // Probes from load balancers and orchestrators: never behind the token, and they reveal
  // nothing but check names (ready.ts).
  if (path === "/healthz" || path === "/readyz") return serveProbe(path, req, res, ctx);
  if (method === "GET" || method === "HEAD") {
    if (!GET_ROUTES.has(path)) {
      const seg = segments(path);
      const isAction = seg !== undefined && safeParseAction(seg) !== undefined;
      if (isAction) {
        res.setHeader("Allow", "POST");
        return sendError(res, 405, `${path} is an action: use POST`);
      }
      return sendError(res, 404, `no such page: ${path}`);
    }
    return serveGet(path, url, req, res, ctx);
  }
  if (method !== "POST") {
    res.setHeader("Allow", "GET, HEAD, POST");
    return sendError(res, 405, `method ${method} not allowed`);
  }
  const seg = segments(path);
  if (seg === undefined) return sendError(res, 400, "malformed percent-encoding in path");
  if (safeParseAction(seg) === undefined) return sendError(res, 404, `no such action: ${path}`);
  const who = { remote: req.socket.remoteAddress, agent: req.headers["user-agent"] };
  const auth = authorizeAction(req, ctx.token);
  if (!auth.ok) {
    ctx.log.warn({ who, path, status: auth.status, reason: auth.error }, "admin action refused");
    if (auth.status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="keepcache"');
    return sendError(res, auth.status, auth.error);
  }
  let action: Action | undefined;
  try {
    const body = await readJsonBody(req);
    action = parseAction(seg, body);
    if (action === undefined) return sendError(res, 404, `no such action: ${path}`);
    const result = await ctx.actions.run(action);
    const what = describeAction(action);
    ctx.log.info({ who: { ...who, auth: auth.principal }, action, result: "ok" }, `admin: ${what}`);
    ctx.events.push({ kind: "action", subject: what, message: result.message });
    return sendJson(res, 200, { ok: true, action, ...result });
  } catch (err) {
    const status = err instanceof ActionError ? err.status : 500;
    const message = (err as Error)?.message ?? String(err);
    ctx.log.warn(
      {
        who: { ...who, auth: auth.principal },
        action: action ?? path,
        result: "failed",
        status,
        err,
      },
      "admin action failed",
    );
    if (action !== undefined && status !== 404) {
      ctx.events.push({
        kind: "action",
        subject: describeAction(action),
        message: `failed: ${message}`,
        level: "warn",
      });
    }
    return sendError(res, status, message);
  }
}

function serveProbe(
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ApiContext,
): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    sendError(res, 405, `method ${req.method} not allowed`);
  } else if (path === "/healthz") {
    sendJson(res, 200, { status: "ok" });
  } else {
    const r = ctx.ready.evaluate();
    sendJson(
      res,
      r.ready ? 200 : 503,
      r.ready ? { status: "ready" } : { status: "not ready", failing: r.failing },
    );
  }
}

/** Route match without body validation (the weight check needs the body). */
function safeParseAction(seg: string[]): Action | undefined {
  try {
    return parseAction(seg, { weight: 0 });
  } catch {
    return undefined;
  }
}

async function serveGet(
  path: string,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ApiContext,
): Promise<void> {
  switch (path) {
    case "/":
    case "/index.html": {
      res.writeHead(200, {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Length": Buffer.byteLength(ctx.dashboardHtml),
        "Content-Security-Policy": DASHBOARD_CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : ctx.dashboardHtml);
      return;
    }
    case "/metrics": {
      const text = await ctx.metrics.metrics();
      res.writeHead(200, {
        "Content-Type": ctx.metrics.contentType,
        "Content-Length": Buffer.byteLength(text),
      });
      res.end(req.method === "HEAD" ? undefined : text);
      return;
    }
    case "/api/v1/status":
      return sendJson(res, 200, ctx.status());
    case "/api/v1/events": {
      const after = Number(url.searchParams.get("after") ?? 0);
      const limit = Number(url.searchParams.get("limit") ?? 100);
      if (!Number.isInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1) {
        return sendError(res, 400, "after and limit must be non-negative integers (limit >= 1)");
      }
      return sendJson(res, 200, {
        events: ctx.events.list(after, limit),
        lastSeq: ctx.events.lastSeq,
      });
    }
    case "/api/v1/stream":
      ctx.stream.attach(req, res);
      return;
  }
}
