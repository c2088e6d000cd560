/**
 * A per-connection reply accumulator. Replies to a batch of pipelined requests are written
 * into one buffer and handed to the socket in a single write, which is what makes pipelined
 * throughput: one syscall per batch instead of one per reply.
 *
 * It is a bump allocator over large chunks: bytes handed to the socket are never overwritten
 * (the socket may still hold them), so writing continues after them, and a new chunk is taken
 * only when the current one is full. No reply is copied twice.
 */
import assert from "node:assert";

const CHUNK = 64 * 1024;

export class OutBuffer {
  buf: Buffer = Buffer.allocUnsafeSlow(CHUNK);
  /** Start of the bytes not yet handed out by take(). */
  private start = 0;
  /** Write position. */
  pos = 0;

  /** Makes room for n more bytes; afterwards buf[pos .. pos+n) is writable. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const pending = this.pos - this.start;
    const next = Buffer.allocUnsafeSlow(Math.max(CHUNK, pending + n));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = pending;
  }

  get pending(): number {
    return this.pos - this.start;
  }

  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, "latin1");
  }

  bytes(src: Buffer, from: number, to: number): void {
    const n = to - from;
    this.ensure(n);
    src.copy(this.buf, this.pos, from, to);
    this.pos += n;
  }

  /** Writes a non-negative integer below 2^53 in decimal. */
  decimal(n: number): void {
    assert(n >= 0 && Number.isSafeInteger(n));
    this.ensure(16);
    if (n < 10) {
      this.buf[this.pos++] = 48 + n;
      return;
    }
    this.pos += this.buf.write(String(n), this.pos, "latin1");
  }

  crlf(): void {
    this.ensure(2);
    this.buf[this.pos++] = 13;
    this.buf[this.pos++] = 10;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** Hands out everything written since the last take(); null when nothing is pending. */
  take(): Buffer | null {
    if (this.pos === this.start) return null;
    const out = this.buf.subarray(this.start, this.pos);
    this.start = this.pos;
    if (this.buf.length - this.pos < 512) {
      // Too little left to be worth continuing in: start the next batch in a fresh chunk.
      this.buf = Buffer.allocUnsafeSlow(CHUNK);
      this.start = this.pos = 0;
    }
    return out;
  }
}
