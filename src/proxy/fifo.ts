/**
 * A growable ring-buffer FIFO. Array.prototype.shift is O(n) once an array is large; the
 * backend in-flight queues and client reply slots pop from the front on every reply.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = new Array(16);
  private head = 0;
  private n = 0;

  get length(): number {
    return this.n;
  }

  push(v: T): void {
    if (this.n === this.items.length) this.grow();
    this.items[(this.head + this.n) & (this.items.length - 1)] = v;
    this.n++;
  }

  peek(): T | undefined {
    return this.n === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.n === 0) return undefined;
    const v = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.n--;
    return v;
  }

  /** The i-th item from the front (0 is peek()); i must be below length. */
  at(i: number): T {
    return this.items[(this.head + i) & (this.items.length - 1)] as T;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let v = this.shift(); v !== undefined; v = this.shift()) out.push(v);
    return out;
  }

  private grow(): void {
    // Capacity stays a power of two so indexing is a mask.
    const next: (T | undefined)[] = new Array(this.items.length * 2);
    for (let i = 0; i < this.n; i++)
      next[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
