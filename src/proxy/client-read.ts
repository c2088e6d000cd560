/**
 * The proxy's client reads: each accepted (non-TLS) socket reads into a ReadSlab of its own
 * (read-slab.ts: bump allocation, so a chunk stays valid while a reply slot references it)
 * through the shared socket-read hooks in src/util/socket-reads.ts. Where those hooks are not
 * available the caller falls back to 'data' events.
 */
import type net from "node:net";
import { adoptReads as adopt, readHooks } from "../util/socket-reads.js";
import { ReadSlab, type SlabSizes } from "./read-slab.js";

/** True when this Node has the hooks adoptReads() relies on. */
export function supported(): boolean {
  return readHooks() !== null;
}

/**
 * Makes `sock` read into a ReadSlab of `sizes` and hand each read to `onChunk`. False, with
 * nothing changed, when the socket cannot be adopted.
 */
export function adoptReads(
  sock: net.Socket,
  sizes: SlabSizes,
  onChunk: (chunk: Buffer) => void,
): boolean {
  if (!supported()) return false;
  const slab = new ReadSlab(sizes);
  return adopt(
    sock,
    slab.region(),
    (n) => onChunk(slab.claim(n)),
    () => slab.region(),
  );
}
