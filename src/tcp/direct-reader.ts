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

/**
 * Buffers of finished connections, reused by new ones: a new connection then costs no 16 kB
 * allocation (and no external-memory accounting that would nudge V8's GC). Bounded, so an
 * idle process keeps at most POOL_MAX * 16 kB.
 */
const pool: Buffer[] = [];
const POOL_MAX = 256;

function take(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafe(SIZE);
}

export class DirectReader {
  private buf: Buffer = take();
  private dst: net.Socket | undefined;
  /** Bytes read before the relay was attached (only possible if a caller reads early). */
  private early: Buffer[] = [];

  /** Pass as `onread` to net.connect. */
  readonly onread = {
    buffer: (): Buffer => this.buf,
    callback: (n: number, b: Uint8Array): boolean => this.got(n, b as Buffer),
  };

  /** Starts relaying `src` (created with `onread`) to `dst`. */
  attach(src: net.Socket, dst: net.Socket): void {
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
    if (dst.writableLength > 0) this.buf = take();
    return ok;
  }

  /**
   * Returns the buffer for reuse. Only after both sockets closed: by then no read can land in
   * it and every write that referenced it has completed or been cancelled.
   */
  release(): void {
    if (pool.length < POOL_MAX) pool.push(this.buf);
    this.dst = undefined;
  }
}
