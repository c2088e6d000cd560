/**
 * One client connection of the cache node: protocol detection, feeding the session, batching
 * replies into one write per read, and backpressure.
 *
 * Backpressure (explicit, as the design requires): when socket.write() returns false the
 * connection stops reading and parsing until 'drain'. A client that never reads its replies
 * therefore holds at most about one output limit of memory, never more.
 *
 * Fairness: one turn of the event loop produces at most TURN_BYTES of replies per connection
 * (a large multi-get or metadump is cut inside the request, session.ts `more`); the rest is
 * produced in a later turn (setImmediate, after the poll phase has read every other ready
 * socket), so a client asking for megabytes never stalls the others. 'drain' resumes in a
 * later turn too: Node emits it from a nextTick when the kernel took a write at once, which
 * would otherwise chain every batch of a large reply without letting the loop turn.
 */
import type { Socket } from "node:net";
import { OutBuffer } from "../util/out-buffer.js";
import { adoptReads } from "../util/socket-reads.js";
import { BinarySession } from "./binary-session.js";
import type { NodeContext } from "./context.js";
import { HeldReplies } from "./replication/held-replies.js";
import { RunResult, type Session } from "./session.js";
import { TextSession } from "./text-session.js";

/** Reply bytes one connection may produce per event-loop turn before yielding. */
const TURN_BYTES = 256 * 1024;

export class Connection {
  private session: Session | undefined;
  private readonly out = new OutBuffer();
  private waitingDrain = false;
  /** A later turn is scheduled to go on (resumeTurn). */
  private yielded = false;
  private closing = false;
  private held: HeldReplies | undefined;
  /** Held replies at which the connection stops executing requests until some are released. */
  private static readonly HELD_LIMIT = 1024;

  /**
   * `socket` must not be reading yet (the listener accepts with pauseOnConnect). With `readBuf`
   * its reads go straight into that shared buffer (socket-reads.ts) when this Node allows it.
   */
  constructor(
    private readonly socket: Socket,
    private readonly ctx: NodeContext,
    readBuf?: Buffer,
  ) {
    socket.setNoDelay(true);
    if (readBuf === undefined || !adoptReads(socket, readBuf, (n) => this.onRead(readBuf, n))) {
      socket.on("data", (chunk: Buffer) => this.onData(chunk));
    }
    socket.on("drain", () => {
      this.waitingDrain = false;
      this.later();
    });
    socket.on("error", () => socket.destroy());
    socket.once("close", () => this.held?.dispose());
    socket.resume();
  }

  /** A read into the shared buffer: whatever input is left over must be copied before return. */
  private onRead(buf: Buffer, n: number): void {
    this.onData(buf.subarray(0, n));
    this.session?.retain();
  }

  private onData(chunk: Buffer): void {
    this.ctx.counters.bytes_read += chunk.length;
    if (this.closing) return;
    if (this.session === undefined) {
      // memcached picks the protocol from the first byte of a connection
      // (protocol-binary.txt "Magic Byte"): 0x80 is a binary request, anything else is text.
      this.session = chunk[0] === 0x80 ? new BinarySession(this.ctx) : new TextSession(this.ctx);
    }
    this.session.feed(chunk);
    this.pump();
  }

  private pump(): void {
    const session = this.session;
    if (!session || this.closing || this.yielded) return;
    const budget = Math.min(this.ctx.options.outputLimitBytes, TURN_BYTES);
    while (!this.waitingDrain) {
      if (this.held !== undefined && this.held.size >= Connection.HELD_LIMIT) {
        this.socket.pause(); // resumed by afterRelease
        return;
      }
      const r = session.run(this.out, budget);
      const data = this.out.take();
      if (r === RunResult.Hold) {
        this.hold(data);
        continue;
      }
      if (data) this.send(data);
      if (r === RunResult.Close) {
        this.closing = true;
        if (this.held === undefined || this.held.size === 0) this.socket.end();
        return;
      }
      if (r === RunResult.NeedInput) return;
      // RunResult.Full: this turn's budget is spent. Read nothing more until the rest is out.
      this.socket.pause();
      if (!this.waitingDrain) this.later();
      return;
    }
  }

  /** Goes on in a later turn of the event loop: other connections' reads come first. */
  private later(): void {
    if (this.yielded) return;
    this.yielded = true;
    setImmediate(this.resumeTurn);
  }

  private readonly resumeTurn = (): void => {
    this.yielded = false;
    if (this.closing || this.waitingDrain || this.socket.destroyed) return;
    this.socket.resume();
    this.pump();
  };

  private send(data: Buffer): void {
    if (this.held !== undefined && this.held.size > 0) this.held.push(data, 0);
    else this.write(data);
  }

  private readonly write = (data: Buffer): void => {
    this.ctx.counters.bytes_written += data.length;
    if (!this.socket.write(data) && !this.waitingDrain) {
      this.waitingDrain = true;
      this.socket.pause();
    }
  };

  /** Splits the batch at the held reply: what came before goes now, the reply waits for ACKs. */
  private hold(data: Buffer | null): void {
    const ctx = this.ctx;
    const mark = ctx.holdMark;
    if (data === null) return;
    if (mark > 0) this.send(data.subarray(0, mark));
    if (data.length === mark) return; // noreply / quiet: nothing to hold
    const repl = ctx.repl;
    if (repl === undefined) return;
    this.held ??= new HeldReplies(repl, this.write, this.afterRelease);
    this.held.push(data.subarray(mark), ctx.holdSeq);
  }

  private readonly afterRelease = (): void => {
    if (this.closing) {
      if (this.held?.size === 0) this.socket.end();
      return;
    }
    if (!this.waitingDrain) this.socket.resume();
    this.pump();
  };
}
