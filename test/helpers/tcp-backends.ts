/** Small pieces the TCP balancer tests share: named echo backends and polling helpers. */
import net from "node:net";
import { tcpServiceSchema } from "../../src/config/schema/tcp.js";
import type { TcpServiceShape } from "../../src/tcp/snapshot.js";
import { freePort } from "../../tools/ports.js";

/** Greets each connection with its name, then echoes (half-close aware). */
export class Backend {
  accepted = 0;
  server: net.Server | undefined;
  readonly sockets = new Set<net.Socket>();
  constructor(
    readonly name: string,
    readonly port: number,
  ) {}
  async start(): Promise<void> {
    this.server = net.createServer({ allowHalfOpen: true }, (s) => {
      this.accepted++;
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => {});
      s.write(`${this.name}\n`);
      s.pipe(s);
    });
    await new Promise<void>((r) => this.server?.listen(this.port, "127.0.0.1", r));
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = undefined;
  }
}

export const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` (sync or async) until it holds; throws after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await wait(10);
  }
}

/** How many times each name occurs. */
export function tally(names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}

/** Starts one named backend per name on free ports; each is stopped by the `cleanup` list. */
export async function startBackends(
  cleanup: (() => Promise<void>)[],
  ...names: string[]
): Promise<Backend[]> {
  const out: Backend[] = [];
  for (const n of names) {
    const b = new Backend(n, await freePort());
    await b.start();
    cleanup.push(() => b.stop());
    out.push(b);
  }
  return out;
}

/** A server of tcpService(): a port, or a port with keepalived's weight / backup flag. */
export type TestServer = number | { port: number; weight?: number; backup?: boolean };

/**
 * One `tcp:` service as the config loader builds it: YAML-form fields through the real schema,
 * so the defaults and checks are the product's own. Connect timeout 1 s unless `extra` says
 * otherwise (tests want a dead server noticed quickly); `extra` fields are in YAML form too.
 */
export function tcpService(
  port: number,
  servers: readonly TestServer[],
  extra: Record<string, unknown> = {},
): TcpServiceShape {
  return tcpServiceSchema.parse({
    listen: `127.0.0.1:${port}`,
    connect_timeout: 1000,
    servers: servers.map((s) =>
      typeof s === "number"
        ? { address: `127.0.0.1:${s}` }
        : { address: `127.0.0.1:${s.port}`, weight: s.weight, backup: s.backup },
    ),
    ...extra,
  });
}

/** A fast TCP connect check (40 ms interval) that decides after `n` results in a row. */
export const tcpCheck = (n: number, timeout: number) => ({
  type: "tcp",
  interval: 40,
  timeout,
  rise: n,
  fall: n,
  path: "/",
  status: [200],
});
