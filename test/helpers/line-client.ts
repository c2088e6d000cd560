/**
 * A raw TCP client for protocol tests: send exact bytes, read exact replies. No library sits
 * between the test and the server, so what is asserted is what went over the wire.
 */
import net from "node:net";

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly sock: net.Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on("close", () => {
      this.closed = true;
      this.wake();
    });
    sock.on("error", () => {});
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new RawClient(s)));
      s.once("error", reject);
    });
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(data: string | Buffer): void {
    this.sock.write(data);
  }

  /** Waits until `n` bytes are buffered (or the socket closes / times out) and takes them. */
  async readBytes(n: number, timeoutMs = 3000): Promise<Buffer> {
    await this.until(() => this.buf.length >= n || this.closed, timeoutMs);
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** Waits until the buffered text ends with `terminator` and takes everything. */
  async readUntil(terminator: string, timeoutMs = 3000): Promise<string> {
    await this.until(
      () => this.buf.toString("latin1").includes(terminator) || this.closed,
      timeoutMs,
    );
    const s = this.buf.toString("latin1");
    const i = s.indexOf(terminator);
    const end = i < 0 ? s.length : i + terminator.length;
    this.buf = this.buf.subarray(end);
    return s.slice(0, end);
  }

  /** Sends a command and returns the reply up to and including `terminator`. */
  async call(cmd: string | Buffer, terminator = "\r\n"): Promise<string> {
    this.write(cmd);
    return this.readUntil(terminator);
  }

  /** Resolves when the server closes the connection. */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    await this.until(() => this.closed, timeoutMs);
    return this.closed;
  }

  private async until(cond: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out; buffered: ${JSON.stringify(this.buf.toString("latin1").slice(0, 300))}`,
        );
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
