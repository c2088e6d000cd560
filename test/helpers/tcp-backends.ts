/** Small pieces the TCP balancer tests share: named echo backends and polling helpers. */
import net from "node:net";
import { freePort } from "./ports.js";

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
