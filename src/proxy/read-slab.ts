/**
 * Read buffers for a backend socket (net.Socket's `onread` option, Node docs "socket.connect
 * (options)"): the socket reads straight into a region of a large slab we own, instead of Node
 * allocating a 64 KiB buffer per read, wrapping it in a new ArrayBuffer and pushing it through
 * the Readable stream (a 'data' event and a nextTick per read).
 *
 * Bump allocation, as OutBuffer: a region handed to the socket is never handed out again, so
 * the chunk a read produced stays valid for as long as a framer keeps it (ByteQueue holds a
 * chunk's unconsumed tail without copying). A new slab is taken when the rest of the current
 * one is too small for a useful read; the old one is freed by the GC once no view is left.
 */

const SLAB = 128 * 1024;
/** Below this much room a read would be split needlessly: start a new slab. */
const MIN_READ = 16 * 1024;

export class ReadSlab {
  private slab: Buffer = Buffer.allocUnsafeSlow(SLAB);
  /** Start of the region last handed to the socket. */
  private at = 0;

  /** The region for the next read (onread's `buffer` function). */
  region(): Buffer {
    if (this.slab.length - this.at < MIN_READ) {
      this.slab = Buffer.allocUnsafeSlow(SLAB);
      this.at = 0;
    }
    return this.slab.subarray(this.at);
  }

  /** The socket read n bytes into the region last handed out: they are the caller's now. */
  claim(n: number): Buffer {
    const chunk = this.slab.subarray(this.at, this.at + n);
    this.at += n;
    return chunk;
  }
}
