/**
 * Connect timeouts without a timer per connection: one timer per service for all connects in
 * flight. A service's connect_timeout is the same for every attempt, so deadlines arrive in
 * insertion order and a FIFO (a Set iterates in insertion order) needs only its oldest entry
 * watched. Cancelling is a Set delete. If a reload shortens the timeout, entries made after
 * it may fire late by at most the difference, never early.
 */
export interface Deadline {
  readonly at: number;
  readonly fire: () => void;
}

export class Deadlines {
  private readonly pending = new Set<Deadline>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;

  get size(): number {
    return this.pending.size;
  }

  /** Calls `fire` after `ms` unless cancelled first; returns the handle for cancel(). */
  add(ms: number, fire: () => void, now = Date.now()): Deadline {
    const d: Deadline = { at: now + ms, fire };
    this.pending.add(d);
    if (this.timer === undefined) this.arm(d.at, now);
    return d;
  }

  cancel(d: Deadline): void {
    this.pending.delete(d);
    // The timer stays armed for the old head: when it fires it finds nothing due, re-arms.
  }

  clear(): void {
    this.pending.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(at: number, now: number): void {
    this.timerAt = at;
    this.timer = setTimeout(() => this.run(), Math.max(0, at - now));
  }

  private run(): void {
    this.timer = undefined;
    const now = Date.now();
    for (const d of this.pending) {
      if (d.at > now) {
        this.arm(d.at, now);
        return;
      }
      this.pending.delete(d);
      d.fire();
    }
  }

  /** For tests: when the armed timer is due, or undefined when idle. */
  get armedAt(): number | undefined {
    return this.timer === undefined ? undefined : this.timerAt;
  }
}
