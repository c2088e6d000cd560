/**
 * A per-connection reply accumulator. Replies to a batch of pipelined requests are written
 * into one buffer and handed to the socket in a single write, which is what makes pipelined
 * throughput: one syscall per batch instead of one per reply.
 *
 * It is a bump allocator over large chunks: bytes handed to the socket are never overwritten
 * (the socket may still hold them), so writing continues after them, and a new chunk is taken
 * only when the current one is full.
 *
 * Appends are amortised O(1) however large the batch grows (a 60,000-key multi-get, replies
 * piling up for a client that does not read, requests piling up behind a busy backend socket):
 * a full chunk is replaced by one at least twice the pending bytes, so the copies of a batch of
 * any size add up to less than twice its length. Growing by exactly what is needed instead made
 * every append past the first chunk copy everything pending: quadratic, seconds of CPU for a
 * few MB. A grown chunk is not kept after its batch is taken, so one large reply does not pin
 * its memory to the connection.
 *
 * Nothing is allocated until the first write, and the first chunk is small (FIRST): a client
 * that connects and never asks anything, or a backend connection whose connect is refused with
 * one request queued, then costs a few KiB rather than a 64 KiB chunk. Such allocations are
 * off the V8 heap but count toward its external-memory limit: a dead server's connect attempts,
 * each with 192 KiB of buffers, started a full mark-compact every 40 ms.
 */
import assert from "node:assert";

const CHUNK = 64 * 1024;
/** The first chunk of a connection's buffer. */
const FIRST = 4 * 1024;
const EMPTY = Buffer.alloc(0);
/**
 * Up to this many bytes a plain loop beats Buffer#write / TypedArray#set, which cross into C++
 * or allocate a view per call (keys, short values, reply words and most forwarded requests are
 * this small). A loop costs about 1 ns a byte here; `set` about 40 ns plus the view's garbage,
 * which at proxy request rates is a large share of all young-generation allocation.
 */
const SMALL = 64;

export class OutBuffer {
  buf: Buffer = EMPTY;
  /** Start of the bytes not yet handed out by take(). */
  private start = 0;
  /** Write position. */
  pos = 0;

  /** Makes room for n more bytes; afterwards buf[pos .. pos+n) is writable. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.grow(n);
  }

  /** The slow path of ensure(), kept out of it so the check above stays small enough to inline. */
  private grow(n: number): void {
    const pending = this.pos - this.start;
    const size = this.buf === EMPTY ? FIRST : CHUNK;
    const next = Buffer.allocUnsafeSlow(Math.max(size, 2 * (pending + n)));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = pending;
  }

  get pending(): number {
    return this.pos - this.start;
  }

  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    if (n > SMALL) {
      this.pos += this.buf.write(s, this.pos, "latin1");
      return;
    }
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  bytes(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    if (n > SMALL) {
      b.set(src.subarray(from, to), p);
      this.pos = p + n;
      return;
    }
    for (let i = from; i < to; i++) b[p++] = src[i];
    this.pos = p;
  }

  /** Writes all of `src` (precomputed reply lines). */
  raw(src: Uint8Array): void {
    this.bytes(src, 0, src.length);
  }

  /** Writes a non-negative integer below 2^53 in decimal. */
  decimal(n: number): void {
    assert(n >= 0 && Number.isSafeInteger(n));
    this.ensure(16);
    const b = this.buf;
    if (n < 10) {
      b[this.pos++] = 48 + n;
      return;
    }
    let len = 2;
    for (let t = n; t >= 100; t = Math.floor(t / 10)) len++;
    let p = this.pos + len;
    this.pos = p;
    // Math.floor, not `| 0`: n may exceed 2^31.
    while (n >= 10) {
      const q = Math.floor(n / 10);
      b[--p] = 48 + (n - q * 10);
      n = q;
    }
    b[--p] = 48 + n;
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
    if (this.buf.length - this.pos < 512 || this.buf.length > CHUNK) {
      // Too little left to be worth continuing in, or a chunk grown for one large batch:
      // start the next batch in a fresh chunk.
      this.buf = Buffer.allocUnsafeSlow(CHUNK);
      this.start = this.pos = 0;
    }
    return out;
  }
}
