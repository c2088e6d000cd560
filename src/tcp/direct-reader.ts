/**
 * Server→client relaying without the Readable stream machinery: the server socket is created
 * with net.connect's `onread` option, so libuv reads straight into a buffer we own and our
 * callback writes the bytes to the client (no per-read Buffer object, no 'data' event, no
 * readable-state bookkeeping). Like HAProxy's per-stream buffer (tune.bufsize 16 kB).
 *
 * Buffer ownership: a write that completes synchronously (the usual case: libuv tries the
 * write at once) leaves nothing referencing the buffer, so the next read reuses it. A write
 * that is queued keeps a reference to the bytes; the reader then takes a fresh buffer for the
 * next read (Node asks `buffer()` for one after every read) and never overwrites queued bytes.
 * Backpressure: when the client's write buffer is full the callback returns false (Node stops
 * reading the server) and 'drain' resumes it.
 */
import type net from "node:net";

const SIZE = 16 * 1024;

export class DirectReader {
  private buf: Buffer = Buffer.allocUnsafe(SIZE);
  private dst: net.Socket | undefined;
  private src: net.Socket | undefined;
  /** Bytes read before the relay was attached (only possible if a caller reads early). */
  private early: Buffer[] = [];

  /** Pass as `onread` to net.connect. */
  readonly onread = {
    buffer: (): Buffer => this.buf,
    callback: (n: number, b: Uint8Array): boolean => this.got(n, b as Buffer),
  };

  /** Starts relaying `src` (created with `onread`) to `dst`. */
  attach(src: net.Socket, dst: net.Socket): void {
    this.src = src;
    this.dst = dst;
    dst.on("drain", () => src.resume());
    for (const b of this.early) dst.write(b);
    this.early = [];
  }

  private got(n: number, b: Buffer): boolean {
    const chunk = b.subarray(0, n);
    const dst = this.dst;
    if (dst === undefined) {
      this.early.push(Buffer.from(chunk));
      return true;
    }
    const ok = dst.write(chunk);
    // Still queued: the write holds these bytes, so read the next chunk into a new buffer.
    if (dst.writableLength > 0) this.buf = Buffer.allocUnsafe(SIZE);
    return ok;
  }

  /** Stops reading the server (used when the client is gone). */
  stop(): void {
    this.src?.pause();
  }
}
