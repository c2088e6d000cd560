/**
 * The admin plane of one keepcache process: the metrics registry, the status hub, the event
 * ring, the action registry and the HTTP listener serving them. Subsystems (and `keepcache
 * up`, `keepcache node --admin`) create one AdminServer and register into its parts:
 *
 *   const admin = new AdminServer({ listen, token, log });
 *   admin.metrics.registerSource(nodeMetrics, { subsystem: "node", labels: { node } }, () => c);
 *   admin.status.register({ kind: "node", name, snapshot });
 *   admin.actions.register({ kind: "node", name: "*", handle });
 *   admin.events.push({ kind: "failover", subject: "web/shard-1", message: "..." });
 *   admin.ready.register({ name: "shards_live", ok: () => ... });   // /readyz
 *   await admin.listen();
 */
import http from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "../log.js";
import { buildMetrics } from "../metrics/table.js";
import { VERSION } from "../version.js";
import { ActionRegistry } from "./actions.js";
import { handleRequest } from "./api.js";
import { dashboardHtml } from "./dashboard/page.js";
import { EventRing } from "./events.js";
import {
  type AdminListen,
  assertSafeListen,
  DEFAULT_ADMIN_LISTEN,
  formatListen,
} from "./listen.js";
import { ReadyChecks } from "./ready.js";
import { MetricsRegistry } from "./registry.js";
import { StatusStream } from "./sse.js";
import { type StatusDocument, StatusHub } from "./status.js";

export interface AdminServerOptions {
  listen?: AdminListen;
  /** Bearer token for actions; required when `listen` is not loopback. */
  token?: string;
  log: Logger;
  /** Where the listen setting came from, for the refusal message ("--admin", a file name). */
  source?: string;
  /** SSE status period (ms); the dashboard's refresh rate. */
  streamIntervalMs?: number;
  /** prom-client's process metrics (default true). */
  processMetrics?: boolean;
  eventCapacity?: number;
}

export class AdminServer {
  readonly metrics: MetricsRegistry;
  readonly status = new StatusHub();
  readonly events: EventRing;
  readonly actions = new ActionRegistry();
  /** What /readyz checks; /healthz needs nothing. */
  readonly ready = new ReadyChecks();
  readonly listenAt: AdminListen;
  private readonly token: string | undefined;
  private readonly stream: StatusStream;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly log: Logger;

  /** Throws ConfigError when a non-loopback listener has no token (before binding anything). */
  constructor(opts: AdminServerOptions) {
    this.listenAt = opts.listen ?? DEFAULT_ADMIN_LISTEN;
    this.token = opts.token === "" ? undefined : opts.token;
    assertSafeListen(this.listenAt, this.token, opts.source ?? "admin");
    this.log = opts.log;
    this.metrics = new MetricsRegistry({ defaultMetrics: opts.processMetrics ?? true });
    this.metrics.registerSource(buildMetrics, { subsystem: "" }, () => ({
      build_info: { [VERSION]: 1 },
    }));
    this.events = new EventRing(opts.eventCapacity ?? 500);
    this.stream = new StatusStream(() => this.snapshot(), this.events, opts.streamIntervalMs);
    const ctx = {
      token: this.token,
      log: this.log,
      metrics: this.metrics,
      status: () => this.snapshot(),
      events: this.events,
      actions: this.actions,
      ready: this.ready,
      stream: this.stream,
      dashboardHtml: dashboardHtml(),
    };
    this.server = http.createServer((req, res) => {
      handleRequest(req, res, ctx).catch((err) => {
        this.log.error({ err, url: req.url }, "admin request failed");
        if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
        res.end(`${JSON.stringify({ error: "internal error" })}\n`);
      });
    });
    // Bounded waits for slow or idle clients (the SSE stream is exempt: it is a response).
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 15_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
    this.server.on("error", (err) => this.log.error({ err }, "admin listener error"));
  }

  /** The document /api/v1/status and the stream serve. */
  snapshot(): StatusDocument {
    return this.status.snapshot({
      version: VERSION,
      actions: this.actions.capabilities(),
      lastEventSeq: this.events.lastSeq,
    });
  }

  listen(): Promise<void> {
    const l = this.listenAt;
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      const done = () => {
        this.server.off("error", reject);
        this.log.info(
          { url: this.url(), auth: this.token ? "token" : "loopback" },
          "admin dashboard and API listening",
        );
        resolve();
      };
      if (l.kind === "unix") this.server.listen(l.path, done);
      else this.server.listen({ host: l.host, port: l.port }, done);
    });
  }

  address(): AdminListen {
    const a = this.server.address();
    if (a && typeof a === "object") return { kind: "tcp", host: a.address, port: a.port };
    return this.listenAt;
  }

  /** http://host:port/ of the bound listener (unix sockets: the path). */
  url(): string {
    const a = this.address();
    return a.kind === "unix" ? a.path : `http://${formatListen(a)}/`;
  }

  /** Ends SSE streams, closes idle and active connections, stops listening. */
  async close(): Promise<void> {
    this.stream.closeAll();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
