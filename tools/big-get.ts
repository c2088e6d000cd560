/**
 * One client asking for many keys at once, and another client's latency meanwhile: the two
 * halves of "one client never hurts another" for multi-gets, shared by the e2e tests and
 * `npm run bench -- multiget`.
 */
import net from "node:net";

/** Keys k000000000.. as bench/lib/loader.ts loadItems(port, n, 10) stores them. */
export function loaderKeys(n: number, keyBytes = 10): string[] {
  return Array.from({ length: n }, (_, i) => `k${String(i).padStart(keyBytes - 1, "0")}`);
}

/** Bytes of memcached's reply to `get` of `keys` when every key holds flags 0 and `valueBytes`. */
export function hitReplyBytes(keys: string[], valueBytes: number): number {
  let n = 5; // END\r\n
  for (const k of keys) n += `VALUE ${k} 0 ${valueBytes}\r\n`.length + valueBytes + 2;
  return n;
}

export interface TimedGet {
  ms: number;
  /** When it was sent (performance.now()), and how long until its first reply byte. */
  sentAt: number;
  firstByteMs: number;
  bytes: number;
  /** The reply ended in END\r\n (not an error line). */
  ended: boolean;
  /** Its last line (END, or the error). */
  last: string;
}

/** Sends one `get k1 k2 ...` on a fresh connection and times its whole reply. */
export function timedGet(port: number, keys: string[], timeoutMs = 30_000): Promise<TimedGet> {
  const request = Buffer.from(`get ${keys.join(" ")}\r\n`, "latin1");
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: "127.0.0.1" });
    let bytes = 0;
    let tail = "";
    let t0 = 0n;
    let sentAt = 0;
    let firstByteMs = -1;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        new Error(`get of ${keys.length} keys: no END after ${timeoutMs} ms (${bytes} bytes)`),
      );
    }, timeoutMs);
    sock.once("connect", () => {
      t0 = process.hrtime.bigint();
      sentAt = performance.now();
      sock.write(request);
    });
    sock.on("data", (d: Buffer) => {
      if (bytes === 0) firstByteMs = Number(process.hrtime.bigint() - t0) / 1e6;
      bytes += d.length;
      tail = (tail + d.subarray(Math.max(0, d.length - 256)).toString("latin1")).slice(-256);
      if (!tail.endsWith("\r\n")) return;
      const last = tail.slice(0, -2).split("\r\n").pop() ?? "";
      if (last !== "END" && !/^(SERVER_|CLIENT_)?ERROR/.test(last)) return;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(timer);
      sock.destroy();
      resolve({ ms, sentAt, firstByteMs, bytes, ended: last === "END", last });
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export interface ProbeResult {
  count: number;
  p99ms: number;
  maxMs: number;
  /** Replies that were not the expected VALUE ... END (errors, closes). */
  errors: string[];
  /** When each reply came (performance.now()), in order. */
  doneAt: number[];
}

/**
 * Another client: `get key` in a loop on its own connection, one at a time, timing each
 * reply, until stop(). `expect` is the exact reply.
 */
export class Prober {
  private readonly lat: number[] = [];
  private readonly doneAt: number[] = [];
  private readonly errors: string[] = [];
  private stopped = false;
  private done: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly port: number,
    private readonly key: string,
    private readonly expect: string,
    /** Pause between requests (ms), so the probe is a light client, not a load generator. */
    private readonly gapMs = 1,
  ) {}

  start(): this {
    this.done = this.loop();
    return this;
  }

  private async loop(): Promise<void> {
    const sock = net.connect({ port: this.port, host: "127.0.0.1" });
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", resolve);
      sock.once("error", reject);
    });
    let got = "";
    sock.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      this.wake?.();
    });
    sock.on("close", () => {
      if (!this.stopped) this.errors.push("connection closed");
      this.stopped = true;
      this.wake?.();
    });
    sock.on("error", () => {});
    const request = `get ${this.key}\r\n`;
    while (!this.stopped) {
      got = "";
      const t0 = process.hrtime.bigint();
      sock.write(request);
      while (!this.stopped && !got.endsWith("END\r\n") && !/ERROR[^\n]*\r\n$/.test(got))
        await new Promise<void>((r) => {
          this.wake = r;
        });
      if (this.stopped && !got.endsWith("\r\n")) break;
      this.lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      this.doneAt.push(performance.now());
      if (got !== this.expect) this.errors.push(got.slice(0, 200));
      if (this.gapMs > 0) await new Promise((r) => setTimeout(r, this.gapMs));
    }
    sock.destroy();
  }

  async stop(): Promise<ProbeResult> {
    this.stopped = true;
    this.wake?.();
    await this.done;
    const sorted = [...this.lat].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return {
      count: sorted.length,
      p99ms: sorted.length ? at(0.99) : 0,
      maxMs: sorted.length ? sorted[sorted.length - 1] : 0,
      errors: this.errors,
      doneAt: this.doneAt,
    };
  }
}
