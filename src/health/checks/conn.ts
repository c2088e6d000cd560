/**
 * A short-lived TCP conversation for the protocol checks (memcache, redis, mysql): connect,
 * write, and read frames as they complete. The frame test is the caller's pure function over
 * the unread bytes; bytes it consumes are never looked at again.
 */
import net from "node:net";
import type { CheckTarget } from "../types.js";
import { abortDetail } from "./result.js";

/** Returns the length of the complete frame at the start of `buf`, or 0 if more is needed. */
export type FrameTest = (buf: Buffer) => number;

export class CheckConnection {
  private pending: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private ended = false;

  private constructor(private readonly sock: net.Socket) {
    sock.on("data", (d: Buffer) => {
      this.pending = this.pending.length === 0 ? d : Buffer.concat([this.pending, d]);
      this.wake();
    });
    sock.on("end", () => {
      this.ended = true;
      this.wake();
    });
    sock.on("error", (e) => {
      this.failure = e;
      this.wake();
    });
  }

  static open(target: CheckTarget, signal: AbortSignal): Promise<CheckConnection> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new Error(abortDetail(signal)));
      const sock = net.connect({ host: target.host, port: target.port });
      sock.setNoDelay(true);
      const onAbort = () => {
        sock.destroy();
        reject(new Error(abortDetail(signal)));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      sock.once("connect", () => {
        signal.removeEventListener("abort", onAbort);
        const c = new CheckConnection(sock);
        signal.addEventListener("abort", () => c.abort(new Error(abortDetail(signal))), {
          once: true,
        });
        resolve(c);
      });
      sock.once("error", (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      });
    });
  }

  write(b: Buffer | string): void {
    this.sock.write(b);
  }

  /** Resolves with the next complete frame; rejects on error, abort, or EOF before a frame. */
  async read(test: FrameTest): Promise<Buffer> {
    for (;;) {
      const n = this.pending.length > 0 ? test(this.pending) : 0;
      if (n > 0) {
        const frame = this.pending.subarray(0, n);
        this.pending = this.pending.subarray(n);
        return frame;
      }
      if (this.failure) throw this.failure;
      if (this.ended) throw new Error("connection closed by server");
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    }
  }

  close(): void {
    this.sock.destroy();
  }

  private abort(e: Error): void {
    this.failure ??= e;
    this.sock.destroy();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

/** Frame test for one CRLF-terminated line (memcache, RESP simple replies). */
export function lineFrame(buf: Buffer): number {
  const i = buf.indexOf("\r\n");
  return i < 0 ? 0 : i + 2;
}
