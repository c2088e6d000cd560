/**
 * The bounded FIFO of clients waiting for a server slot (HAProxy's per-backend queue with
 * `timeout queue`). A waiter leaves by being served, by timing out, or by being cancelled
 * (its client went away); each happens once.
 */
export interface Waiter<T> {
  readonly value: T;
  /** Remove from the queue without calling either callback. */
  cancel(): void;
}

interface Entry<T> {
  value: T;
  timer: NodeJS.Timeout | undefined;
  onTimeout: () => void;
  done: boolean;
}

export class WaitQueue<T> {
  private readonly items: Entry<T>[] = [];
  private head = 0;

  constructor(
    private readonly maxLength: number,
    private readonly timeoutMs: number,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** Enqueues, or returns undefined when the queue is full. */
  push(value: T, onTimeout: () => void): Waiter<T> | undefined {
    if (this.length >= this.maxLength) return undefined;
    const e: Entry<T> = { value, timer: undefined, onTimeout, done: false };
    if (this.timeoutMs > 0)
      e.timer = setTimeout(() => {
        this.drop(e);
        e.onTimeout();
      }, this.timeoutMs);
    this.items.push(e);
    return { value, cancel: () => this.drop(e) };
  }

  /** Takes the oldest live waiter (its timer is cleared), or undefined when none is left. */
  shift(): T | undefined {
    while (this.head < this.items.length) {
      const e = this.items[this.head++];
      this.compact();
      if (e.done) continue;
      e.done = true;
      clearTimeout(e.timer);
      return e.value;
    }
    return undefined;
  }

  /** Fails every waiter through its timeout callback (used on stop). */
  clear(): void {
    const rest = this.items.slice(this.head);
    this.items.length = 0;
    this.head = 0;
    for (const e of rest) {
      if (e.done) continue;
      e.done = true;
      clearTimeout(e.timer);
      e.onTimeout();
    }
  }

  private drop(e: Entry<T>): void {
    if (e.done) return;
    e.done = true;
    clearTimeout(e.timer);
    const i = this.items.indexOf(e, this.head);
    if (i >= 0) this.items.splice(i, 1);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }
}
