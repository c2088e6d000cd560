/**
 * Time for the cache node.
 *
 * - A coarse clock in whole Unix seconds, refreshed by a timer, as memcached's `current_time`
 *   is: expiry checks on the hot path read a number instead of calling Date.now().
 * - A hybrid logical clock (HLC; Kulkarni et al., "Logical Physical Clocks", 2014) that stamps
 *   every mutation with a 64-bit version. The version is also the item's CAS value, which is
 *   what lets a `gets` on one node be followed by a `cas` on a peer (replicated items keep their
 *   version). Layout, high bit first:
 *     42 bits  milliseconds since 2020-01-01 (lasts until ~2159)
 *     12 bits  logical counter (4096 stamps per ms before borrowing the next ms)
 *     10 bits  node id (0-1023), so two nodes never issue the same version
 *   Comparing versions as unsigned 64-bit numbers gives last-writer-wins with a total order.
 */
const EPOCH_MS = Date.UTC(2020, 0, 1);
const TWO32 = 0x1_0000_0000;

export class CoarseClock {
  private seconds = Math.floor(Date.now() / 1000);
  private timer: NodeJS.Timeout | undefined;
  /** Current Unix time in seconds. */
  now(): number {
    return this.seconds;
  }
  start(): this {
    this.timer = setInterval(() => {
      this.seconds = Math.floor(Date.now() / 1000);
    }, 250);
    this.timer.unref();
    return this;
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
  /** For tests: pin the clock. */
  set(seconds: number): void {
    this.seconds = seconds;
  }
}

/** A version as two uint32 halves; reused objects keep BigInt off the hot path. */
export interface Version {
  hi: number;
  lo: number;
}

export class HybridLogicalClock {
  /** Last issued physical part (ms since EPOCH_MS) and logical counter. */
  private ms = 0;
  private logical = 0;
  readonly nodeId: number;
  private readonly wallMs: () => number;

  constructor(nodeId: number, wallMs: () => number = Date.now) {
    if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > 1023) {
      throw new RangeError(`node id must be 0-1023, got ${nodeId}`);
    }
    this.nodeId = nodeId;
    this.wallMs = wallMs;
  }

  /** Stamps a local event: writes the new version into `out`. */
  tick(out: Version): Version {
    const wall = this.wallMs() - EPOCH_MS;
    if (wall > this.ms) {
      this.ms = wall;
      this.logical = 0;
    } else if (++this.logical > 0xfff) {
      // Counter exhausted within one ms: borrow the next millisecond (stays monotonic).
      this.ms++;
      this.logical = 0;
    }
    return this.encode(out);
  }

  /** Merges a version seen from a peer, so later local stamps order after it. */
  observe(hi: number, lo: number): void {
    const { ms, logical } = decode(hi, lo);
    if (ms > this.ms || (ms === this.ms && logical > this.logical)) {
      this.ms = ms;
      this.logical = logical;
    }
  }

  private encode(out: Version): Version {
    // 64-bit value = ms * 2^22 + logical * 2^10 + nodeId, split without BigInt.
    const low22 = this.logical * 1024 + this.nodeId; // < 2^22
    const hiPart = Math.floor(this.ms / 1024); // top 32 bits: ms >> 10
    const msLow10 = this.ms % 1024;
    out.hi = hiPart >>> 0;
    out.lo = (msLow10 * 4_194_304 + low22) >>> 0;
    return out;
  }
}

/** Splits a 64-bit version into its HLC parts. */
export function decode(hi: number, lo: number): { ms: number; logical: number; nodeId: number } {
  const ms = hi * 1024 + Math.floor(lo / 4_194_304);
  const low22 = lo % 4_194_304;
  return { ms, logical: Math.floor(low22 / 1024), nodeId: low22 % 1024 };
}

/** Unsigned 64-bit comparison of two versions: -1, 0 or 1. */
export function compareVersion(aHi: number, aLo: number, bHi: number, bLo: number): number {
  if (aHi !== bHi) return aHi < bHi ? -1 : 1;
  if (aLo !== bLo) return aLo < bLo ? -1 : 1;
  return 0;
}

/** A version as a decimal string (for the ASCII protocol's CAS field). */
export function versionToString(hi: number, lo: number): string {
  if (hi === 0) return String(lo);
  if (hi < 0x200000) return String(hi * TWO32 + lo); // still exact below 2^53
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}
