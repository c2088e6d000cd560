/**
 * Reads of server-accepted sockets into a buffer we own, as backend sockets do with `onread`
 * (read-slab.ts). net.Server has no `onread` option for the sockets it accepts (Node 20 docs,
 * net.createServer), so this installs the same hooks Node's own `new net.Socket({ onread })`
 * installs (lib/net.js Socket constructor + initSocketHandle): the socket's kBuffer, kBufferGen
 * and kBufferCb symbol fields, and `handle.useUserBuffer(buf)` on the libuv stream handle.
 * Node's read path (lib/internal/stream_base_commons.js onStreamRead) then hands each read to
 * our callback instead of allocating a Buffer, pushing it through the Readable and emitting
 * 'data' on a nextTick; pause()/resume() and 'end'/'close' work as for onread sockets.
 *
 * These are Node internals: `supported()` feature-tests them once (the three symbols on a
 * fresh net.Socket, useUserBuffer on the handle) and adoptReads() refuses any socket that does
 * not look as expected (TLS, a handle already reading), so the caller falls back to 'data'.
 * The socket must not have started reading: the listener uses `pauseOnConnect`.
 */
import net from "node:net";
import tls from "node:tls";
import { ReadSlab, type SlabSizes } from "./read-slab.js";

type Sym = { buffer: symbol; gen: symbol; cb: symbol };

let syms: Sym | null | undefined;

function probe(): Sym | null {
  const own = Object.getOwnPropertySymbols(new net.Socket());
  const find = (d: string) => own.find((s) => s.description === d);
  const buffer = find("kBuffer");
  const gen = find("kBufferGen");
  const cb = find("kBufferCb");
  if (buffer === undefined || gen === undefined || cb === undefined) return null;
  return { buffer, gen, cb };
}

/** True when this Node has the hooks adoptReads() relies on. */
export function supported(): boolean {
  if (syms === undefined) syms = probe();
  return syms !== null;
}

interface StreamHandle {
  reading?: boolean;
  useUserBuffer?: (buf: Uint8Array) => void;
}

/**
 * Makes `sock` read into a ReadSlab of `sizes` and hand each read to `onChunk` (the chunk stays
 * valid while referenced: bump allocation). False, with nothing changed, when the socket cannot
 * be adopted; the caller then reads it through 'data' events.
 */
export function adoptReads(
  sock: net.Socket,
  sizes: SlabSizes,
  onChunk: (chunk: Buffer) => void,
): boolean {
  if (!supported() || syms === null || syms === undefined) return false;
  // A TLS socket's handle delivers ciphertext to the TLS layer, not to us.
  if (sock instanceof tls.TLSSocket) return false;
  const handle = (sock as unknown as { _handle?: StreamHandle | null })._handle;
  if (handle === null || handle === undefined || typeof handle.useUserBuffer !== "function")
    return false;
  // A handle already reading has its buffers allocated by Node: too late to switch.
  if (handle.reading === true) return false;
  const s = sock as unknown as Record<symbol, unknown>;
  if (s[syms.buffer] !== null || s[syms.gen] !== null || s[syms.cb] !== null) return false;
  const slab = new ReadSlab(sizes);
  const region = () => slab.region();
  const first = region();
  s[syms.buffer] = first;
  s[syms.gen] = region;
  // Returning true keeps reading; the owner pauses through socket.pause() (Node's onread contract).
  s[syms.cb] = (n: number) => {
    onChunk(slab.claim(n));
    return true;
  };
  handle.useUserBuffer(first);
  return true;
}
