/**
 * The byte queue every memcache parser reads from. A chunk that arrives while nothing is left
 * over is used as is (no copy: the common case for pipelined small requests); only when a frame
 * spans chunks do we copy into one owned, growing buffer. Offsets handed out by a parser point
 * into `buf` and stay valid until the next `feed`, which may move the unconsumed bytes to the
 * front (`feed` returns how far they moved so a parser can shift its saved offsets).
 */
export class ByteQueue {
  buf: Buffer = Buffer.alloc(0);
  /** First unconsumed byte. */
  start = 0;
  /** One past the last valid byte. */
  end = 0;
  private owned = false;

  get length(): number {
    return this.end - this.start;
  }

  /** Appends a chunk; returns the distance (>= 0) by which existing unconsumed bytes moved left. */
  feed(chunk: Buffer): number {
    if (chunk.length === 0) return 0;
    if (this.start === this.end) {
      const moved = this.start;
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.owned = false;
      return moved;
    }
    const pending = this.end - this.start;
    const need = pending + chunk.length;
    if (this.owned && this.end + chunk.length <= this.buf.length) {
      chunk.copy(this.buf, this.end);
      this.end += chunk.length;
      return 0;
    }
    const moved = this.start;
    if (this.owned && need <= this.buf.length) {
      this.buf.copy(this.buf, 0, this.start, this.end);
    } else {
      // Grow geometrically so a large value arriving in many small chunks costs O(n) copies.
      const next = Buffer.allocUnsafe(Math.max(need * 2, 4096));
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.owned = true;
    }
    chunk.copy(this.buf, pending);
    this.start = 0;
    this.end = need;
    return moved;
  }

  /**
   * Copies the unconsumed bytes into an owned buffer when they still live in the last chunk fed,
   * for a caller about to reuse that chunk's memory (a socket reading into one fixed buffer).
   * Returns how far they moved left, as feed() does; 0 when nothing had to move.
   */
  retain(): number {
    if (this.owned || this.start === this.end) return 0;
    const pending = this.end - this.start;
    const next = Buffer.allocUnsafe(Math.max(pending * 2, 4096));
    this.buf.copy(next, 0, this.start, this.end);
    const moved = this.start;
    this.buf = next;
    this.owned = true;
    this.start = 0;
    this.end = pending;
    return moved;
  }

  /** Marks everything before `to` as consumed. */
  consume(to: number): void {
    // A drained owned buffer is released by the next feed(), which adopts the new chunk.
    this.start = to;
  }
}

/** Parse results shared by all memcache parsers. */
export const ParseStatus = { NeedMore: 0, Ok: 1, Error: 2 } as const;
export type ParseStatus = (typeof ParseStatus)[keyof typeof ParseStatus];
