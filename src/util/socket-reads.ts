/**
 * Reads of accepted client sockets into buffers we own (the node's one shared buffer, the
 * proxy's bump-allocated slabs), instead of Node allocating a
 * 64 KiB buffer per read (malloc, shrink-realloc, a new ArrayBuffer and Buffer), pushing it
 * through the Readable stream and emitting 'data'. Under memcaslap-style load (one small
 * request per read) that machinery costs more CPU than executing the request.
 *
 * Node's public way to get this is the `onread` option of `new net.Socket()` / `net.connect()`
 * (Node 20 docs, "socket.connect(options)"), which net.Server does not offer for the sockets it
 * accepts. So this installs the same hooks the Socket constructor installs for `onread`
 * (lib/net.js: the kBuffer / kBufferGen / kBufferCb fields, then initSocketHandle's
 * `handle.useUserBuffer(buf)`). From then on lib/internal/stream_base_commons.js onStreamRead
 * calls our callback with each read's byte count; EOF, errors, pause() (readStop) and resume()
 * (readStart) behave as for any `onread` socket.
 *
 * These are Node internals, so `readHooks()` feature-tests them once (the three symbols, as own
 * fields initialised to null on a fresh net.Socket) and adoptReads() refuses any socket that
 * does not look as expected (no handle, a handle without useUserBuffer, one already reading).
 * The caller then falls back to 'data' events: behaviour is the same either way, only the cost
 * differs. test/unit/node/socket-reads.test.ts checks the hooks exist on the Node we ship for.
 *
 * With a fixed buffer (the node), it is reused for every read of every adopted socket: bytes a
 * reader keeps past its callback must be copied out before it returns (ByteQueue.retain does
 * that for the parsers). With `nextBuffer` (the proxy's ReadSlab), each read may land in a new
 * region. TLS sockets are refused: their handle delivers ciphertext to the TLS layer.
 */
import net from "node:net";
import tls from "node:tls";

interface Hooks {
  buffer: symbol;
  gen: symbol;
  cb: symbol;
}

let hooks: Hooks | null | undefined;

function probe(): Hooks | null {
  const s = new net.Socket();
  const own = Object.getOwnPropertySymbols(s);
  const find = (d: string) => own.find((x) => x.description === d);
  const buffer = find("kBuffer");
  const gen = find("kBufferGen");
  const cb = find("kBufferCb");
  s.destroy();
  if (buffer === undefined || gen === undefined || cb === undefined) return null;
  const f = s as unknown as Record<symbol, unknown>;
  // Anything but the constructor's nulls means the fields changed meaning: do not touch them.
  if (f[buffer] !== null || f[gen] !== null || f[cb] !== null) return null;
  return { buffer, gen, cb };
}

/** The Socket fields adoptReads() sets, or null when this Node does not have them. */
export function readHooks(): Hooks | null {
  if (hooks === undefined) hooks = probe();
  return hooks;
}

interface StreamHandle {
  reading?: boolean;
  useUserBuffer?: (buf: Uint8Array) => void;
}

/**
 * Makes the not-yet-reading `sock` (accepted with `pauseOnConnect`) read into `buf` and report
 * each read as `onRead(n)`: the bytes are buf[0, n) and are overwritten by the next read of any
 * socket sharing `buf`. With `nextBuffer`, Node asks it for the buffer of every later read
 * (kBufferGen), and onRead's bytes are at the start of the buffer it last returned. The caller
 * resumes the socket afterwards. False, with nothing changed, when the socket cannot be
 * adopted; the caller then reads it through 'data' events.
 */
export function adoptReads(
  sock: net.Socket,
  buf: Buffer,
  onRead: (n: number) => void,
  nextBuffer?: () => Buffer,
): boolean {
  const h = readHooks();
  if (h === null) return false;
  if (sock instanceof tls.TLSSocket) return false;
  const handle = (sock as unknown as { _handle?: StreamHandle | null })._handle;
  if (handle === null || handle === undefined || typeof handle.useUserBuffer !== "function") {
    return false;
  }
  // A socket already reading (or resumed, which starts reading on the next tick) gets its
  // buffers from Node's allocator and its bytes as 'data': too late to switch.
  if (handle.reading === true || sock.readableFlowing === true) return false;
  const f = sock as unknown as Record<symbol, unknown>;
  if (f[h.buffer] !== null || f[h.gen] !== null || f[h.cb] !== null) return false;
  f[h.buffer] = buf;
  if (nextBuffer !== undefined) f[h.gen] = nextBuffer;
  // onStreamRead treats anything but `false` as "keep reading"; backpressure uses pause().
  f[h.cb] = (n: number): undefined => {
    onRead(n);
  };
  handle.useUserBuffer(buf);
  return true;
}
