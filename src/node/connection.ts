/**
 * One client connection of the cache node: protocol detection, feeding the session, batching
 * replies into one write per read, and backpressure.
 *
 * Backpressure (explicit, as the design requires): when socket.write() returns false, or when
 * one batch of replies passes the output limit, the connection stops reading and parsing until
 * 'drain'. A client that never reads its replies therefore holds at most about one output limit
 * of memory, never more.
 */
import type { Socket } from "node:net";
import { OutBuffer } from "../util/out-buffer.js";
import type { NodeContext } from "./context.js";
import { RunResult, type Session } from "./session.js";

export class Connection {
  private session: Session | undefined;
  private readonly out = new OutBuffer();
  private waitingDrain = false;
  private closing = false;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: NodeContext,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => {
      this.waitingDrain = false;
      this.socket.resume();
      this.pump();
    });
    socket.on("error", () => socket.destroy());
  }

  private onData(chunk: Buffer): void {
    this.ctx.counters.bytes_read += chunk.length;
    if (this.closing) return;
    if (this.session === undefined) {
      // memcached picks the protocol from the first byte of a connection
      // (protocol-binary.txt "Magic Byte"): 0x80 is a binary request, anything else is text.
      this.session = this.ctx.newSession(chunk[0] === 0x80 ? "binary" : "text");
    }
    this.session.feed(chunk);
    this.pump();
  }

  private pump(): void {
    const session = this.session;
    if (!session || this.closing) return;
    const limit = this.ctx.options.outputLimitBytes;
    while (!this.waitingDrain) {
      const r = session.run(this.out, limit);
      const data = this.out.take();
      if (data) {
        this.ctx.counters.bytes_written += data.length;
        if (!this.socket.write(data)) {
          this.waitingDrain = true;
          this.socket.pause();
        }
      }
      if (r === RunResult.Close) {
        this.closing = true;
        this.socket.end();
        return;
      }
      if (r === RunResult.NeedInput) return;
      // RunResult.Full: the batch was cut at the budget. Keep going unless the socket pushed back.
      if (this.socket.writableLength >= limit && !this.waitingDrain) {
        this.waitingDrain = true;
        this.socket.pause();
      }
    }
  }
}
