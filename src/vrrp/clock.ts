/** The timer interface the VRRP core is driven by: real (setTimeout) or fake (tests). */

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(h: TimerHandle): void;
}

/** The production clock: performance.now() and setTimeout (fractions of a ms are rounded up). */
export class RealClock implements Clock {
  private next = 1;
  private readonly live = new Map<number, NodeJS.Timeout>();
  now(): number {
    return performance.now();
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    const t = setTimeout(
      () => {
        this.live.delete(id);
        fn();
      },
      Math.max(0, Math.ceil(ms)),
    );
    this.live.set(id, t);
    return { id };
  }
  clearTimer(h: TimerHandle): void {
    const t = this.live.get(h.id);
    if (t) clearTimeout(t);
    this.live.delete(h.id);
  }
}

/** A deterministic clock for tests: advance() fires due timers in deadline order. */
export class FakeClock implements Clock {
  private t = 0;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void; seq: number }>();
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn, seq: id });
    return { id };
  }
  clearTimer(h: TimerHandle): void {
    this.timers.delete(h.id);
  }
  /** Moves time forward by `ms`, firing every timer due on the way (bounded to avoid loops). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      let best: [number, { at: number; fn: () => void; seq: number }] | undefined;
      for (const e of this.timers) {
        if (e[1].at > end) continue;
        if (!best || e[1].at < best[1].at || (e[1].at === best[1].at && e[1].seq < best[1].seq))
          best = e;
      }
      if (!best) break;
      this.timers.delete(best[0]);
      this.t = best[1].at;
      best[1].fn();
    }
    this.t = end;
  }
  pending(): number {
    return this.timers.size;
  }
}
