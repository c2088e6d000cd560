/**
 * A protocol session: what a connection runs once the first byte has chosen the protocol.
 * The connection owns the socket and the reply buffer; the session owns the parser and the
 * command execution. Keeping the two apart lets text and binary share all socket handling.
 */
import type { OutBuffer } from "../util/out-buffer.js";

export enum RunResult {
  /** All buffered input was consumed; wait for more. */
  NeedInput = 0,
  /** Stopped because the reply buffer passed its budget; call run() again after a flush. */
  Full = 1,
  /** Flush the replies, then close the connection (quit, or a fatal protocol error). */
  Close = 2,
  /**
   * Sync replication: the last command's reply (from NodeContext.holdMark in the batch) must
   * wait for peers' ACKs of NodeContext.holdSeq; earlier replies in the batch may go now.
   */
  Hold = 3,
}

export interface Session {
  feed(chunk: Buffer): void;
  /** Executes buffered requests, writing replies to `out`, until input runs out or out passes `budget` bytes. */
  run(out: OutBuffer, budget: number): RunResult;
}
