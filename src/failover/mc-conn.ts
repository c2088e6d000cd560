/**
 * A small control-plane memcached text connection (not the data path): pipelined commands,
 * each answered by bytes up to a terminator the caller names. Used to warm returning members
 * (`lru_crawler metadump all`, `get`, `add ... noreply`, `mn`) and read `stats`.
 */
import net from "node:net";

interface Pending {
  /** Returns how many bytes of `buf` the reply took, or -1 when incomplete. */
  frame(buf: Buffer): number;
  resolve(b: Buffer): void;
  reject(e: Error): void;
}

export class McConn {
  private readonly sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private readonly queue: Pending[] = [];
  private error: Error | undefined;
  private readonly ready: Promise<void>;

  constructor(host: string, port: number, timeoutMs: number) {
    this.sock = net.connect({ host, port });
    this.sock.setNoDelay(true);
    this.sock.setTimeout(timeoutMs, () =>
      this.sock.destroy(new Error(`${host}:${port} timed out`)),
    );
    this.ready = new Promise((resolve, reject) => {
      this.sock.once("connect", () => resolve());
      this.sock.once("error", reject);
    });
    this.ready.catch(() => {});
    this.sock.on("data", (d: Buffer) => this.onData(d));
    this.sock.on("error", (e) => this.failAll(e));
    this.sock.on("close", () => this.failAll(new Error(`${host}:${port} closed the connection`)));
  }

  connected(): Promise<void> {
    return this.ready;
  }

  /** Sends `data`; resolves with the reply bytes `frame` delimits. */
  request(data: Buffer | string, frame: (buf: Buffer) => number): Promise<Buffer> {
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      this.queue.push({ frame, resolve, reject });
      this.sock.write(data);
    });
  }

  /** Sends bytes that get no reply (noreply commands). */
  write(data: Buffer | string): void {
    if (!this.error) this.sock.write(data);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    while (this.queue.length > 0) {
      const n = this.queue[0].frame(this.buf);
      if (n < 0) return;
      const p = this.queue.shift() as Pending;
      p.resolve(this.buf.subarray(0, n));
      this.buf = this.buf.subarray(n);
    }
  }

  private failAll(e: Error): void {
    this.error ??= e;
    for (const p of this.queue.splice(0)) p.reject(this.error);
  }

  close(): void {
    this.error ??= new Error("closed");
    this.sock.destroy();
  }
}

/** Frame ending with `word` at the start of a line ("END\r\n", "MN\r\n"). */
export function untilLine(word: string): (buf: Buffer) => number {
  const w = Buffer.from(word);
  return (buf) => {
    let from = 0;
    for (;;) {
      const i = buf.indexOf(w, from);
      if (i < 0) return -1;
      if (i === 0 || buf[i - 1] === 0x0a) return i + w.length;
      from = i + 1;
    }
  };
}
