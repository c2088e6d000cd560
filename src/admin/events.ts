/**
 * A bounded ring of recent transitions (ejections, failovers, VRRP state changes, health
 * changes, operator actions) for the dashboard timeline and /api/v1/events. Subsystems push;
 * the admin plane reads. Old entries fall off the end: this is a view, not an audit log (the
 * pino log is that).
 */
import assert from "node:assert";

export type EventKind =
  | "eject"
  | "restore"
  | "failover"
  | "health"
  | "vrrp"
  | "replication"
  | "node"
  | "action";

export type EventLevel = "info" | "warn" | "error";

export interface AdminEventInput {
  kind: EventKind;
  /** What it is about: "pool/server", "vrrp instance", "node name". */
  subject: string;
  message: string;
  level?: EventLevel;
  /** Optional structured details (from/to state, addresses, ...). */
  data?: Record<string, unknown>;
}

export interface AdminEvent extends Required<Omit<AdminEventInput, "data">> {
  /** Monotonic sequence number, starting at 1; clients ask for events after a seq. */
  seq: number;
  /** Milliseconds since the epoch. */
  time: number;
  data?: Record<string, unknown>;
}

export type EventListener = (e: AdminEvent) => void;

export class EventRing {
  private readonly buf: (AdminEvent | undefined)[];
  private next = 0;
  private seq = 0;
  private readonly listeners = new Set<EventListener>();

  constructor(
    readonly capacity = 500,
    private readonly now: () => number = Date.now,
  ) {
    assert(Number.isInteger(capacity) && capacity > 0, "event ring capacity must be positive");
    this.buf = new Array(capacity);
  }

  push(input: AdminEventInput): AdminEvent {
    const e: AdminEvent = {
      seq: ++this.seq,
      time: this.now(),
      kind: input.kind,
      subject: input.subject,
      message: input.message,
      level: input.level ?? "info",
    };
    if (input.data !== undefined) e.data = input.data;
    this.buf[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A broken listener (a closed SSE stream) must not stop the subsystem pushing.
      }
    }
    return e;
  }

  /** Up to `limit` events with seq > afterSeq, oldest first. */
  list(afterSeq = 0, limit = this.capacity): AdminEvent[] {
    const out: AdminEvent[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const e = this.buf[(this.next + i) % this.capacity];
      if (e !== undefined && e.seq > afterSeq) out.push(e);
    }
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  get lastSeq(): number {
    return this.seq;
  }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => {
      this.listeners.delete(l);
    };
  }
}
