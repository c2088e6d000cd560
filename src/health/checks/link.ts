/**
 * One kept connection per checked server, as Redis Sentinel keeps its command link to each
 * instance (sentinel.c, instanceLink) instead of connecting for every PING: a check that
 * fails on it (error, EOF, timeout, a reply out of step) ends the connection and fails; the
 * next check connects again. A prober probing every 100 ms would otherwise leave a socket in
 * TIME-WAIT per probe and churn through ephemeral ports.
 */
import type { CheckTarget } from "../types.js";
import { CheckConnection } from "./conn.js";

/** What a fresh connection needs before its first check (Redis AUTH). */
export type Greeting = (c: CheckConnection, signal: AbortSignal) => Promise<void>;

export class CheckLink {
  private conn: CheckConnection | undefined;
  private closed = false;

  constructor(
    private readonly target: CheckTarget,
    private readonly greet?: Greeting,
  ) {}

  /** Runs one check's exchange on the link, connecting (and greeting) first when needed. */
  async use<T>(signal: AbortSignal, exchange: (c: CheckConnection) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error("check link closed");
    try {
      let c = this.conn;
      if (c === undefined || !c.usable) {
        this.reset();
        c = await CheckConnection.open(this.target, signal);
        // Closed while connecting (the target was removed): nothing may stay open.
        if (this.closed) {
          c.close();
          throw new Error("check link closed");
        }
        this.conn = c;
        await this.greet?.(c, signal);
      }
      return await exchange(c);
    } catch (e) {
      this.reset();
      throw e;
    }
  }

  /** Ends the connection; the next check connects again. */
  reset(): void {
    this.conn?.close();
    this.conn = undefined;
  }

  /** Ends the connection for good (the target is no longer checked). */
  close(): void {
    this.closed = true;
    this.reset();
  }
}
