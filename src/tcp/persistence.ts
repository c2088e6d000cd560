/**
 * persistence_timeout (LVS persistent services): a client IP keeps going to the server it was
 * last sent to while it keeps connecting within the timeout. The table is bounded: past
 * `maxEntries` the least recently used entry is dropped (a Map keeps insertion order, and a
 * touch re-inserts), so a scan from many source addresses cannot grow memory without limit.
 */
export class AffinityTable {
  private readonly map = new Map<string, { server: string; expires: number }>();
  private sweeper: NodeJS.Timeout | undefined;

  /** The table for a persistence_timeout in seconds; undefined when it is 0 (no affinity). */
  static forSeconds(seconds: number, maxEntries?: number): AffinityTable | undefined {
    return seconds > 0 ? new AffinityTable(seconds * 1000, maxEntries) : undefined;
  }

  constructor(
    private readonly timeoutMs: number,
    private readonly maxEntries = 65_536,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The remembered server for a client, if the entry has not expired. */
  get(client: string, now = Date.now()): string | undefined {
    const e = this.map.get(client);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.map.delete(client);
      return undefined;
    }
    return e.server;
  }

  /** Remembers (or refreshes) the client's server for another timeout period. */
  set(client: string, server: string, now = Date.now()): void {
    this.map.delete(client);
    this.map.set(client, { server, expires: now + this.timeoutMs });
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  /** Sweeps every 10 s in the background (unref'd: it never keeps the process alive). */
  startSweeper(): void {
    this.stopSweeper();
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  stopSweeper(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Drops expired entries (oldest first; stops at the first live one, which is LRU order). */
  sweep(now = Date.now()): void {
    for (const [k, e] of this.map) {
      if (e.expires > now) break;
      this.map.delete(k);
    }
  }
}
