/**
 * MULTI ... EXEC through a proxy whose backend connections are shared by many clients.
 *
 * A transaction is connection state on the server (multi.c): if MULTI went ahead on a shared
 * connection, other clients' commands would be queued into it. So the proxy answers MULTI and
 * each queued command itself (+OK, +QUEUED), keeps copies of the queued requests, and at EXEC
 * sends MULTI, the commands and EXEC as one contiguous write to the one server that holds
 * every key: nothing can interleave, and the client gets EXEC's reply (the reply framer skips
 * the +OK/+QUEUED replies, see reply-framer.ts). The server is chosen by the first keyed
 * command; a later command with a key elsewhere is refused, and, as redis does after a
 * queuing error (multi.c flagTransaction), the EXEC is then aborted with EXECABORT.
 */
import { codedError } from "../../protocol/resp/encoder.js";

const MULTI = Buffer.from("*1\r\n$5\r\nMULTI\r\n");
const EXEC = Buffer.from("*1\r\n$4\r\nEXEC\r\n");

export const EXECABORT = codedError(
  "EXECABORT",
  "Transaction discarded because of previous errors.",
);

export class Transaction {
  open = false;
  /** A command was refused while queuing: EXEC answers EXECABORT. */
  dirty = false;
  /** The server every key must be on (state.shardOf's index), -1 until a keyed command. */
  shard = -1;
  /** Where the key that chose `shard` sits in bundle() (it routes the bundle), and its length. */
  keyOffset = 0;
  keyLength = 0;
  private parts: Buffer[] = [];
  private size = 0;

  begin(): void {
    this.clear();
    this.open = true;
  }

  clear(): void {
    this.open = false;
    this.dirty = false;
    this.shard = -1;
    this.keyOffset = 0;
    this.keyLength = 0;
    this.parts = [];
    this.size = 0;
  }

  get queued(): number {
    return this.parts.length;
  }

  /** Bytes queued so far (bounded by the caller against maxRequestBytes). */
  get bytes(): number {
    return this.size;
  }

  /** Keeps a copy of one request (a complete multibulk). */
  queue(request: Buffer, copy: boolean): void {
    const b = copy ? Buffer.from(request) : request;
    this.parts.push(b);
    this.size += b.length;
  }

  /**
   * Pins the transaction to `shard` by the command about to be queued, whose key is at
   * `offset` in that command's bytes.
   */
  pin(shard: number, offset: number, length: number): void {
    this.shard = shard;
    this.keyOffset = MULTI.length + this.size + offset;
    this.keyLength = length;
  }

  /** MULTI, the queued commands, EXEC, as one request; the transaction is closed. */
  bundle(): Buffer {
    const out = Buffer.concat([MULTI, ...this.parts, EXEC], MULTI.length + this.size + EXEC.length);
    this.open = false;
    this.parts = [];
    this.size = 0;
    return out;
  }
}
