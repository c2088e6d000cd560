/**
 * A protocol session: what a connection runs once the first byte has chosen the protocol.
 * The connection owns the socket and the reply buffer; the session owns the parser and the
 * command execution. Keeping the two apart lets text and binary share all socket handling.
 */
import { ParseStatus } from "../protocol/memcache/input.js";
import type { OutBuffer } from "../util/out-buffer.js";
import type { NodeContext } from "./context.js";

export enum RunResult {
  /** All buffered input was consumed; wait for more. */
  NeedInput = 0,
  /**
   * Stopped because the reply buffer passed its budget (possibly in the middle of one large
   * reply: a multi-get, a metadump); call run() again after a flush, in a later turn.
   */
  Full = 1,
  /** Flush the replies, then close the connection (quit, or a fatal protocol error). */
  Close = 2,
  /**
   * Sync replication: the last command's reply (from NodeContext.holdMark in the batch) must
   * wait for peers' ACKs of NodeContext.holdSeq; earlier replies in the batch may go now.
   */
  Hold = 3,
}

/** Writes more of a reply cut at the output budget; true once it is complete. */
export type MoreReply = (out: OutBuffer, budget: number) => boolean;

export interface Session {
  feed(chunk: Buffer): void;
  /** Copies buffered input out of the last chunk fed, whose memory the caller will reuse. */
  retain(): void;
  /** Executes buffered requests, writing replies to `out`, until input runs out or out passes `budget` bytes. */
  run(out: OutBuffer, budget: number): RunResult;
}

/** What ParsedSession needs of a protocol's request parser (text.ts, binary.ts). */
export interface RequestParser<R> {
  feed(chunk: Buffer): void;
  retain(): void;
  next(req: R): ParseStatus;
  /** The buffer the request's offsets point into. */
  readonly buffer: Buffer;
}

/**
 * The request loop both memcached protocols share: parse, execute, stop at the output budget,
 * and hand a sync-replication hold to the connection. Subclasses supply the parser and the
 * command semantics.
 */
export abstract class ParsedSession<R> implements Session {
  /**
   * The rest of a reply cut at the output budget: writes more of it into `out` until the
   * budget, and returns true once it is complete. Set by execute() for replies that can be
   * large (every key of a 60,000-key get, every item of a metadump), so one request never
   * holds the event loop for its whole reply: the connection yields between budgets.
   */
  protected more: MoreReply | null = null;
  /** The budget of the current run(), for execute() to cut a large reply at. */
  protected budget = 0;

  constructor(
    protected readonly ctx: NodeContext,
    protected readonly req: R,
    protected readonly parser: RequestParser<R>,
  ) {}

  feed(chunk: Buffer): void {
    this.parser.feed(chunk);
  }

  retain(): void {
    this.parser.retain();
  }

  /** Answers a request the parser rejected; true when the connection must close. */
  protected abstract reject(req: R, out: OutBuffer): boolean;
  /** Executes one parsed request; true when the connection must close afterwards. */
  protected abstract execute(req: R, out: OutBuffer): boolean;

  run(out: OutBuffer, budget: number): RunResult {
    const req = this.req;
    const ctx = this.ctx;
    this.budget = budget;
    const more = this.more;
    if (more !== null) {
      if (!more(out, budget)) return RunResult.Full;
      this.more = null;
    }
    for (;;) {
      if (out.pending >= budget) return RunResult.Full;
      const st = this.parser.next(req);
      if (st === ParseStatus.NeedMore) return RunResult.NeedInput;
      if (st === ParseStatus.Error) {
        ctx.counters.protocol_errors++;
        if (this.reject(req, out)) return RunResult.Close;
        continue;
      }
      const mark = out.pending;
      if (this.execute(req, out)) return RunResult.Close;
      // Only reads are cut (no write to hold for replication): finish it in a later run().
      if (this.more !== null) return RunResult.Full;
      if (ctx.wrote && ctx.endWrite(mark)) return RunResult.Hold;
    }
  }
}
