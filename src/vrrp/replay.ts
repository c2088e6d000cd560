/**
 * Replay protection for keepcache's HMAC adverts (packet.ts): each sender's counter must grow.
 * A restarted sender starts from its wall-clock milliseconds, so it stays ahead of what it
 * sent before; the window is per source address.
 */
export class ReplayGuard {
  private readonly last = new Map<string, bigint>();

  /** True when `counter` is newer than anything accepted from `src`; then it is remembered. */
  accept(src: string, counter: bigint): boolean {
    const prev = this.last.get(src);
    if (prev !== undefined && counter <= prev) return false;
    this.last.set(src, counter);
    return true;
  }
}

/** A counter source for senders: wall-clock ms, strictly increasing even within one ms. */
export class CounterSource {
  private prev = 0n;
  constructor(private readonly nowMs: () => number = Date.now) {}
  next(): bigint {
    const t = BigInt(Math.floor(this.nowMs()));
    this.prev = t > this.prev ? t : this.prev + 1n;
    return this.prev;
  }
}
