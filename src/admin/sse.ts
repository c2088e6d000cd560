/**
 * GET /api/v1/stream: Server-Sent Events (WHATWG HTML "Server-sent events") for the dashboard.
 * One shared timer takes one status snapshot per tick and writes it to every open stream
 * (`event: status`), so ten open dashboards cost one snapshot, not ten. Events from the ring
 * are pushed as they happen (`event: event`). A client that does not read (write() returned
 * false) skips status frames until it drains: the next frame supersedes the old one anyway.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AdminEvent, EventRing } from "./events.js";
import type { StatusDocument } from "./status.js";

interface Client {
  res: ServerResponse;
  blocked: boolean;
}

export class StatusStream {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly snapshot: () => StatusDocument,
    private readonly events: EventRing,
    private readonly intervalMs = 1000,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  attach(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      // Reverse proxies (nginx) buffer responses unless told not to; SSE must flow.
      "X-Accel-Buffering": "no",
    });
    const client: Client = { res, blocked: false };
    this.clients.add(client);
    res.on("drain", () => {
      client.blocked = false;
    });
    const drop = () => this.detach(client);
    req.on("close", drop);
    res.on("error", drop);
    // `retry` sets the browser's reconnection delay (ms) after the stream breaks.
    res.write(`retry: 1000\n\n`);
    // Events newer than what the client already saw (Last-Event-ID after a reconnect).
    // The first connection names it in ?after= (the page fetched older events itself).
    const query = new URL(req.url ?? "/", "http://admin.invalid").searchParams.get("after");
    const last = Number(req.headers["last-event-id"] ?? query ?? Number.NaN);
    if (Number.isInteger(last) && last >= 0) {
      for (const e of this.events.list(last)) this.send(client, "event", e, e.seq);
    }
    this.send(client, "status", this.snapshot());
    this.ensureRunning();
  }

  /** Ends every stream (server shutdown). */
  closeAll(): void {
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.stop();
  }

  private detach(c: Client): void {
    this.clients.delete(c);
    if (this.clients.size === 0) this.stop();
  }

  private ensureRunning(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.unsubscribe = this.events.subscribe((e) => this.pushEvent(e));
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private tick(): void {
    if (this.clients.size === 0) return;
    const doc = this.snapshot();
    // Serialise once for all clients.
    const frame = `event: status\ndata: ${JSON.stringify(doc)}\n\n`;
    for (const c of this.clients) {
      if (!c.blocked) c.blocked = !c.res.write(frame);
    }
  }

  private pushEvent(e: AdminEvent): void {
    for (const c of this.clients) this.send(c, "event", e, e.seq);
  }

  private send(c: Client, event: string, data: unknown, id?: number): void {
    const idLine = id === undefined ? "" : `id: ${id}\n`;
    // JSON.stringify never emits a raw newline, so one `data:` line carries the whole object.
    c.blocked = !c.res.write(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
