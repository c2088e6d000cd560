/**
 * Ordered reply slots for sync mode (--sync-replication). A write's reply is held until enough
 * peers have ACKed its backlog offset; every reply that follows on the same connection queues
 * behind it, so pipelined clients still read replies in request order. After --sync-timeout the
 * held reply is replaced by an error: the client never hears a silent success.
 *
 * Only connections that hit sync mode create one; the plain path in connection.ts is unchanged.
 */
import { binaryStatus, HEADER_LENGTH, writeBinaryHeader } from "../../protocol/memcache/binary.js";

export interface AckSource {
  /** Highest backlog seq applied by the required number of peers. */
  readonly syncAcked: number;
  readonly syncTimeoutMs: number;
  onAcked(fn: () => void): void;
  offAcked(fn: () => void): void;
  countTimeout(): void;
}

interface Slot {
  data: Buffer;
  /** 0 = ready (a reply that only waits for its turn). */
  seq: number;
  deadline: number;
}

/** memcached's text form; binary replies get an internal-error status with the same text. */
const TEXT = "SERVER_ERROR replication timeout\r\n";
const BIN_TEXT = "replication timeout";

/** The error that replaces a held reply: same framing and, for binary, same opcode/opaque. */
export function timeoutReply(held: Buffer): Buffer {
  if (held.length >= HEADER_LENGTH && held[0] === 0x81) {
    const out = Buffer.allocUnsafe(HEADER_LENGTH + BIN_TEXT.length);
    const opaque = held.readUInt32BE(12);
    const at = writeBinaryHeader(
      out,
      0,
      held[1],
      binaryStatus.InternalError,
      opaque,
      0,
      0,
      BIN_TEXT.length,
    );
    out.write(BIN_TEXT, at, "latin1");
    return out;
  }
  return Buffer.from(TEXT, "latin1");
}

export class HeldReplies {
  private readonly slots: Slot[] = [];
  private timer: NodeJS.Timeout | undefined;
  private listening = false;
  private disposed = false;

  constructor(
    private readonly acks: AckSource,
    private readonly write: (b: Buffer) => void,
    private readonly resume: () => void,
  ) {}

  get size(): number {
    return this.slots.length;
  }

  push(data: Buffer, seq: number): void {
    this.slots.push({ data, seq, deadline: seq > 0 ? Date.now() + this.acks.syncTimeoutMs : 0 });
    if (seq > 0 && !this.listening) {
      this.listening = true;
      this.acks.onAcked(this.release);
    }
    if (this.slots.length === 1) this.release();
  }

  /** Writes every reply at the front that is acknowledged, timed out, or not a write. */
  readonly release = (): void => {
    if (this.disposed) return;
    const now = Date.now();
    const s = this.slots;
    let n = 0;
    while (n < s.length) {
      const slot = s[n];
      if (slot.seq > 0 && this.acks.syncAcked < slot.seq) {
        if (slot.deadline > now) break;
        slot.data = timeoutReply(slot.data);
        this.acks.countTimeout();
      }
      this.write(slot.data);
      n++;
    }
    if (n > 0) s.splice(0, n);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (s.length === 0) {
      this.unlisten();
    } else {
      this.timer = setTimeout(this.release, Math.max(1, s[0].deadline - now));
    }
    if (n > 0) this.resume();
  };

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.unlisten();
    this.slots.length = 0;
  }

  private unlisten(): void {
    if (this.listening) this.acks.offAcked(this.release);
    this.listening = false;
  }
}
