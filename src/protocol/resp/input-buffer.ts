/**
 * The bytes a RESP parser has received but not consumed. A chunk that arrives when nothing is
 * pending is adopted as is (no copy: the common case for pipelined traffic that ends on frame
 * boundaries). Only a frame spanning chunks is copied, into a buffer we own that grows
 * geometrically, so a large bulk string arriving in many small chunks costs O(n) copies.
 * Bytes already handed out (below `end`) are never overwritten: appends go past `end`, and
 * compaction moves to a fresh buffer.
 */

const EMPTY = Buffer.alloc(0);

export class InputBuffer {
  buf: Buffer = EMPTY;
  /** Valid bytes are buf[0, end); buf.length may be larger when we own it. */
  end = 0;
  private owned = false;

  /**
   * Appends chunk, keeping buf[keepFrom, end). Returns how far kept bytes moved down (subtract
   * it from every saved offset). `frameNeed` is how many bytes from keepFrom the frame in
   * progress is known to need (0 if unknown); it sizes the new buffer, capped at twice the
   * data, so a peer's declared length alone never makes us allocate.
   */
  append(chunk: Buffer, keepFrom: number, frameNeed: number): number {
    const pending = this.end - keepFrom;
    if (pending === 0) {
      this.buf = chunk;
      this.end = chunk.length;
      this.owned = false;
      return keepFrom;
    }
    if (this.owned && this.buf.length - this.end >= chunk.length) {
      chunk.copy(this.buf, this.end);
      this.end += chunk.length;
      return 0;
    }
    const need = pending + chunk.length;
    const cap = Math.max(need, Math.min(frameNeed, need * 2), Math.min(need * 2, need + 65536));
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, keepFrom, this.end);
    chunk.copy(next, pending);
    this.buf = next;
    this.end = need;
    this.owned = true;
    return keepFrom;
  }

  /** Drops everything (after a fatal protocol error, or on reset). */
  clear(): void {
    this.buf = EMPTY;
    this.end = 0;
    this.owned = false;
  }
}
