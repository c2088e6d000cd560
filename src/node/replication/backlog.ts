/**
 * The replication backlog: a bounded ring of this node's own REC frames, as Redis keeps
 * `repl-backlog` for PSYNC (redis src/replication.c, feedReplicationBuffer / addReplyReplicationBacklog).
 * A peer that reconnects with an offset still inside the ring continues from there; otherwise it
 * needs a full sync. Memory is fixed at the capacity: the oldest records are dropped as new ones
 * arrive, never more.
 *
 * Two coordinates, both monotonic safe integers:
 *   - seq: record count; the record appended n-th has seq n (the replication offset peers ACK);
 *   - pos: byte position in the infinite stream; the ring index is pos % capacity.
 * A reader holds a byte position; it is behind (lost) once pos < tailPos.
 */
import assert from "node:assert";

/** How many recent records keep their append time (for lag in ms). */
const TIME_SLOTS = 8192;

export class BacklogRing {
  readonly capacity: number;
  private readonly ring: Buffer;
  /** Seq of the last appended record; 0 before any. */
  headSeq = 0;
  /** Byte position just after the last record. */
  headPos = 0;
  /** Seq of the oldest retained record (headSeq + 1 when empty). */
  firstSeq = 1;
  /** Byte position of the oldest retained record. */
  tailPos = 0;
  private readonly times = new Float64Array(TIME_SLOTS);

  constructor(capacity: number) {
    assert.ok(Number.isInteger(capacity) && capacity >= 64, "backlog capacity too small");
    this.capacity = capacity;
    this.ring = Buffer.allocUnsafeSlow(capacity);
  }

  /** Appends one whole frame (src[from..to)); returns its seq. */
  append(src: Buffer, from: number, to: number, nowMs: number): number {
    const n = to - from;
    assert.ok(n >= 5 && n <= this.capacity, "frame does not fit the backlog");
    while (this.headPos + n - this.tailPos > this.capacity) {
      this.tailPos += 4 + this.u32At(this.tailPos);
      this.firstSeq++;
    }
    const cap = this.capacity;
    const at = this.headPos % cap;
    const first = Math.min(n, cap - at);
    src.copy(this.ring, at, from, from + first);
    if (first < n) src.copy(this.ring, 0, from + first, to);
    this.headPos += n;
    this.headSeq++;
    this.times[this.headSeq % TIME_SLOTS] = nowMs;
    return this.headSeq;
  }

  /** Whether a reader that has applied everything up to `seq` can continue from the ring. */
  covers(seq: number): boolean {
    return seq >= this.firstSeq - 1 && seq <= this.headSeq;
  }

  /** Byte position of the record after `seq` (requires covers(seq)); walks from the tail. */
  positionAfter(seq: number): number {
    assert.ok(this.covers(seq), "seq outside the backlog");
    let pos = this.tailPos;
    for (let s = this.firstSeq; s <= seq; s++) pos += 4 + this.u32At(pos);
    return pos;
  }

  /** Whether bytes at `pos` were overwritten (the reader fell too far behind). */
  lost(pos: number): boolean {
    return pos < this.tailPos;
  }

  /** A copy of up to maxBytes stream bytes from `pos` (not necessarily whole frames). */
  read(pos: number, maxBytes: number): Buffer {
    assert.ok(pos >= this.tailPos && pos <= this.headPos, "read outside the backlog");
    const n = Math.min(maxBytes, this.headPos - pos);
    const out = Buffer.allocUnsafe(n);
    const cap = this.capacity;
    const at = pos % cap;
    const first = Math.min(n, cap - at);
    this.ring.copy(out, 0, at, at + first);
    if (first < n) this.ring.copy(out, first, 0, n - first);
    return out;
  }

  /** Milliseconds since the first record after `ackedSeq` was appended (0 when caught up). */
  lagMs(ackedSeq: number, nowMs: number): number {
    if (ackedSeq >= this.headSeq) return 0;
    // Older than the time window: report the oldest time still known (a lower bound).
    const s = Math.max(ackedSeq + 1, this.headSeq - TIME_SLOTS + 1);
    return Math.max(0, nowMs - this.times[s % TIME_SLOTS]);
  }

  private u32At(pos: number): number {
    const cap = this.capacity;
    const r = this.ring;
    const i = pos % cap;
    if (i + 4 <= cap) return r.readUInt32BE(i);
    return (
      r[i] * 0x1000000 + r[(i + 1) % cap] * 0x10000 + r[(i + 2) % cap] * 0x100 + r[(i + 3) % cap]
    );
  }
}
