/**
 * A raw RESP connection for tests that must see reply bytes as the server sent them (RESP3
 * maps `%`, sets `~`, nulls `_`, pushes `>`): pipelines requests in one write and reads whole
 * frames with the proxy's own reply framer (src/protocol/resp/reply.ts), bounded in time.
 */
import net from "node:net";
import { encodeCommand } from "../../src/protocol/resp/encoder.js";
import { ParseStatus } from "../../src/protocol/resp/parser.js";
import { RespReplyFramer } from "../../src/protocol/resp/reply.js";

export class RespSocket {
  private readonly sock: net.Socket;
  private readonly framer = new RespReplyFramer();
  private readonly frames: string[] = [];
  private wake: (() => void) | undefined;
  private error: Error | undefined;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on("data", (d: Buffer) => {
      this.framer.feed(d);
      while (this.framer.next() === ParseStatus.Ok) {
        const r = this.framer.reply;
        this.frames.push(r.buf.toString("latin1", r.frameStart, r.frameEnd));
      }
      this.wake?.();
    });
    const fail = (e: Error) => {
      this.error ??= e;
      this.wake?.();
    };
    sock.on("error", fail);
    sock.on("close", () => fail(new Error("connection closed")));
  }

  static connect(port: number): Promise<RespSocket> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => resolve(new RespSocket(s)));
      s.once("error", reject);
    });
  }

  /** Sends every request in one write and returns the next `requests.length` frames. */
  async pipeline(requests: string[][], timeoutMs = 5000): Promise<string[]> {
    this.sock.write(Buffer.concat(requests.map((r) => encodeCommand(...r))));
    return this.read(requests.length, timeoutMs);
  }

  /** The next `n` frames (replies or pushes), in order. */
  async read(n: number, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      if (this.error) throw this.error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.frames.length}/${n} frames`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.frames.splice(0, n);
  }

  close(): void {
    this.sock.destroy();
  }
}
