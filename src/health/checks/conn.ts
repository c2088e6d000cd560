/**
 * A TCP conversation for the protocol checks (memcache, redis, mysql): connect, write, and
 * read frames as they complete. The frame test is the caller's pure function over the unread
 * bytes; bytes it consumes are never looked at again. A connection outlives one check when a
 * CheckLink keeps it (link.ts); each read is bounded by its own check's signal, whose abort
 * ends the connection (a check that timed out leaves the reply stream out of step).
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
    sock.on("close", () => {
      this.ended = true;
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
        resolve(new CheckConnection(sock));
      });
      sock.once("error", (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      });
    });
  }

  /** Open, in step (no unread bytes), and not failed: fit for the next check. */
  get usable(): boolean {
    return !this.ended && this.failure === undefined && this.pending.length === 0;
  }

  write(b: Buffer | string): void {
    this.sock.write(b);
  }

  /**
   * Resolves with the next complete frame; rejects on error, EOF before a frame, or `signal`'s
   * abort, which also ends the connection.
   */
  async read(test: FrameTest, signal: AbortSignal): Promise<Buffer> {
    const onAbort = () => this.abort(new Error(abortDetail(signal)));
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
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
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  close(): void {
    this.ended = true;
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
