/**
 * The Sentinel-compatible endpoint (`sentinel: { listen }`): clients that discover their
 * master through Sentinel (sentinel-clients.md: ask any sentinel `SENTINEL
 * get-master-addr-by-name`, subscribe to `+switch-master`) point at keepcache instead and
 * follow its builtin failover, without the proxy in their data path. It lives in the process
 * that runs the failover controllers (the primary when there are worker processes).
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import type { SentinelConfig } from "../config/index.js";
import type { Logger } from "../log.js";
import { counters, type SentinelCounters, sentinelMetrics } from "../metrics/table.js";
import type { ProxyService } from "../proxy/proxy.js";
import { SentinelClient } from "./client.js";
import type { CommandContext } from "./commands.js";
import { Masters } from "./masters.js";

/** How often new or removed replica sets (reload) are noticed for pub/sub events. */
const SYNC_MS = 250;

export class SentinelServer {
  readonly masters: Masters;
  private readonly server: net.Server;
  private readonly clients = new Set<SentinelClient>();
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private readonly runId = randomBytes(20).toString("hex");
  private readonly startedAt = Date.now();
  readonly counters: SentinelCounters = counters(sentinelMetrics);

  constructor(
    proxy: Pick<ProxyService, "pools">,
    private readonly cfg: SentinelConfig,
    private readonly log: Logger,
  ) {
    this.masters = new Masters(proxy, (ch, msg) => this.publish(ch, msg));
    this.server = net.createServer((s) => this.accept(s));
  }

  async listen(): Promise<net.AddressInfo> {
    const { host, port } = this.cfg.listen;
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.masters.sync();
    this.timer = setInterval(() => this.masters.sync(), SYNC_MS);
    this.timer.unref();
    const a = this.server.address() as net.AddressInfo;
    this.log.info({ host: a.address, port: a.port }, "sentinel endpoint listening");
    return a;
  }

  address(): net.AddressInfo {
    return this.server.address() as net.AddressInfo;
  }

  /** Sends a message to every client subscribed to the channel or a matching pattern. */
  publish(channel: string, message: string): void {
    this.counters.events_published++;
    this.log.info({ channel, message }, "sentinel event");
    for (const c of this.clients) if (c.subscribed > 0) c.deliver(channel, message);
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.masters.close();
    for (const c of this.clients) c.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    if (this.clients.size >= this.cfg.max_clients) {
      // networking.c acceptCommonHandler: the error, then the connection is closed.
      socket.on("error", () => {});
      socket.end("-ERR max number of clients reached\r\n");
      return;
    }
    const c = new SentinelClient(this.nextId++, socket, {
      outputLimit: this.cfg.output_limit,
      context: (cl) => this.context(cl),
      overLimit: (cl) => {
        // redis: client-output-buffer-limit
        this.counters.output_overflow_closes++;
        this.log.warn(
          { client: cl.id, limit: this.cfg.output_limit },
          "sentinel client output over limit: disconnected",
        );
      },
      closed: (cl) => {
        if (this.clients.delete(cl)) this.counters.client_connections--;
      },
    });
    this.clients.add(c);
    this.counters.connections++;
    this.counters.client_connections++;
  }

  private context(c: SentinelClient): CommandContext {
    return {
      masters: this.masters,
      clientId: c.id,
      clientName: c.name,
      setName: (n) => {
        c.name = n;
      },
      failover: (name) => {
        const m = this.masters.get(name);
        m?.set.controller.failover(undefined).then(
          (r) => this.log.info({ master: name, result: r }, "SENTINEL FAILOVER"),
          (err: unknown) => this.log.warn({ master: name, err }, "SENTINEL FAILOVER failed"),
        );
      },
      port: this.address().port,
      startedAt: this.startedAt,
      runId: this.runId,
      clients: () => this.clients.size,
    };
  }
}
