/**
 * Writes straight to a socket's libuv stream handle, the write-side twin of socket-reads.ts.
 *
 * Why: a proxy writes one small reply per client per backend read. Through `socket.write()`
 * each of those builds a native WriteWrap object, runs the Writable stream's bookkeeping
 * (state, length, buffered-request checks) and schedules an afterWrite nextTick, which costs
 * more CPU and young-generation garbage than the reply itself. Node's own write path
 * (lib/internal/stream_base_commons.js writeGeneric / handleWriteReq / afterWriteDispatched)
 * ends in `handle.writeBuffer(req, buf)`, and the native side (src/stream_base.cc
 * StreamBase::Write) first tries a synchronous `uv_try_write`; only when the kernel does not
 * take every byte does it turn `req` into a pending write and call `req.oncomplete(status)`
 * later. This module calls that same method with one reusable WriteWrap for the synchronous
 * case and a fresh one whenever a write goes asynchronous.
 *
 * Backpressure is explicit and owned by the caller: while a write is pending (`busy`) the caller
 * keeps new bytes in its own bounded buffer (an OutBuffer with an output limit) and writes them
 * when `onDrain` is called. libuv orders writes and a later `socket.end()` (uv_shutdown waits
 * for queued writes), and `socket.destroy()` cancels a pending write, which is reported here as
 * an error status and ignored once the socket is destroyed.
 *
 * These are Node internals (process.binding('stream_wrap'), deprecated DEP0111 in documentation
 * only). `directWrites()` feature-tests them once; when they are missing, for TLS sockets (their
 * handle encrypts in JS-visible state) and for sockets without a handle, `socketWriter()`
 * returns a writer over `socket.write()` with the same contract.
 * test/unit/util/socket-writes.test.ts checks both writers on the Node we ship for.
 */
import type net from "node:net";
import tls from "node:tls";
import { getSystemErrorName } from "node:util";

export interface SocketWriter {
  /**
   * Hands `buf` to the socket. The caller must not write while `busy`, and must not modify
   * buf's bytes afterwards. False: the write is pending; `onDrain` is called once it is done.
   */
  write(buf: Buffer): boolean;
  /** A write is pending: keep new bytes until `onDrain`. */
  readonly busy: boolean;
  /** Bytes accepted but not yet taken by the kernel. */
  readonly queued: number;
}

interface WriteReq {
  oncomplete: ((status: number) => void) | null;
  /** The bytes of a pending write, kept reachable until it completes (libuv reads them). */
  buffer: Buffer | null;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

interface StreamHandle {
  writeBuffer(req: WriteReq, buf: Buffer): number;
  readonly writeQueueSize: number;
}

let binding: StreamWrapBinding | null | undefined;

function probe(): StreamWrapBinding | null {
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamWrapBinding> }).binding(
      "stream_wrap",
    );
    if (
      typeof b.WriteWrap !== "function" ||
      !(b.streamBaseState instanceof Int32Array) ||
      typeof b.kLastWriteWasAsync !== "number"
    )
      return null;
    return b as StreamWrapBinding;
  } catch {
    return null;
  }
}

/** The binding direct writes use, or null when this Node does not offer it. */
export function directWrites(): StreamWrapBinding | null {
  if (binding === undefined) binding = probe();
  return binding;
}

function handleOf(sock: net.Socket): StreamHandle | null {
  if (sock instanceof tls.TLSSocket) return null;
  const h = (sock as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  if (h === null || h === undefined || typeof h.writeBuffer !== "function") return null;
  if (typeof h.writeQueueSize !== "number") return null;
  return h as StreamHandle;
}

function writeError(status: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(status);
  const err: NodeJS.ErrnoException = new Error(`write ${code}`);
  err.code = code;
  err.errno = status;
  err.syscall = "write";
  return err;
}

/** One pending write at most; synchronous writes share one WriteWrap. */
class DirectWriter implements SocketWriter {
  busy = false;
  private req: WriteReq;

  constructor(
    private readonly b: StreamWrapBinding,
    private readonly socket: net.Socket,
    private readonly handle: StreamHandle,
    private readonly onDrain: () => void,
  ) {
    this.req = this.newReq();
  }

  private newReq(): WriteReq {
    const req = new this.b.WriteWrap();
    req.oncomplete = null;
    req.buffer = null;
    return req;
  }

  get queued(): number {
    return this.busy ? this.handle.writeQueueSize : 0;
  }

  write(buf: Buffer): boolean {
    if (this.busy) throw new Error("socket-writes: write while a write is pending");
    // The socket may have been closed by an error event since the caller last looked.
    if (
      this.socket.destroyed ||
      (this.socket as unknown as { _handle: unknown })._handle !== this.handle
    )
      return true;
    const req = this.req;
    const err = this.handle.writeBuffer(req, buf);
    if (err < 0) {
      this.socket.destroy(writeError(err));
      return true;
    }
    if (this.b.streamBaseState[this.b.kLastWriteWasAsync] === 0) return true;
    // The kernel did not take everything: `req` is now libuv's pending write. It completes
    // through oncomplete; later synchronous writes need a WriteWrap of their own.
    this.busy = true;
    req.buffer = buf;
    req.oncomplete = (status: number) => this.completed(status);
    this.req = this.newReq();
    return false;
  }

  private completed(status: number): void {
    this.busy = false;
    if (this.socket.destroyed) return;
    if (status < 0) {
      this.socket.destroy(writeError(status));
      return;
    }
    this.onDrain();
  }
}

/** socket.write() with the same contract, where direct writes are not possible. */
class StreamWriter implements SocketWriter {
  readonly busy = false;
  constructor(private readonly socket: net.Socket) {}
  get queued(): number {
    return this.socket.writableLength;
  }
  write(buf: Buffer): boolean {
    return this.socket.write(buf);
  }
}

/**
 * A writer for a connected socket (call it after 'connect', or for an accepted socket).
 * `onDrain` runs when a write that returned false is done (for the fallback, on 'drain').
 */
export function socketWriter(socket: net.Socket, onDrain: () => void): SocketWriter {
  const b = directWrites();
  const h = b === null ? null : handleOf(socket);
  if (b !== null && h !== null) return new DirectWriter(b, socket, h, onDrain);
  socket.on("drain", onDrain);
  return new StreamWriter(socket);
}
