/**
 * Read buffers for a socket read through `onread` (Node docs "socket.connect(options)";
 * client-read.ts for accepted sockets): the socket reads straight into a region of a slab we
 * own, instead of Node allocating a 64 KiB buffer per read, wrapping it in a new ArrayBuffer and
 * pushing it through the Readable stream (a 'data' event and a nextTick per read).
 *
 * Bump allocation, as OutBuffer: a region handed to the socket is never handed out again, so
 * the chunk a read produced stays valid for as long as a framer keeps it (ByteQueue holds a
 * chunk's unconsumed tail without copying). A new slab is taken when the rest of the current
 * one is too small for a useful read; the old one is freed by the GC once no view is left.
 *
 * Size: a slab lives as long as its socket is idle, so a client's is small (16 KiB, twemproxy's
 * default mbuf_size, nc_mbuf.h) and a backend's large (few connections, big batched reads).
 * A read that fills its whole region means more is waiting (a large value): the next slab is
 * twice as large, up to `max`, so a big transfer takes few reads; a slab used up by ordinary
 * reads is followed by one of the base size again.
 *
 * The first slab is `first` bytes and taken at the first region(): Node asks for a region as
 * soon as a connection starts, and a connect that is refused (a dead server, tried again for
 * each turn's requests) never reads; a new connection's first reads (handshake replies, a
 * client's first requests) are small anyway.
 */

export interface SlabSizes {
  /** Bytes of a fresh slab. */
  base: number;
  /** Below this much room a read would be split needlessly: start a new slab. */
  minRead: number;
  /** Largest slab taken after reads that filled their region. */
  max: number;
  /** Bytes of the first slab. */
  first: number;
}

export const BACKEND_SLAB: SlabSizes = {
  base: 128 * 1024,
  minRead: 16 * 1024,
  max: 1024 * 1024,
  first: 4 * 1024,
};
export const CLIENT_SLAB: SlabSizes = {
  base: 16 * 1024,
  minRead: 1024,
  max: 256 * 1024,
  first: 4 * 1024,
};

const EMPTY = Buffer.alloc(0);

export class ReadSlab {
  private slab: Buffer = EMPTY;
  /** Start of the region last handed to the socket. */
  private at = 0;
  /** Length of the region last handed to the socket. */
  private regionLength = 0;
  /** Size of the next slab; grows while reads fill their regions. */
  private next: number;

  constructor(private readonly sizes: SlabSizes = BACKEND_SLAB) {
    this.next = sizes.first;
  }

  /** The region for the next read (onread's `buffer` function). */
  region(): Buffer {
    if (this.slab.length - this.at < this.sizes.minRead) {
      this.slab = Buffer.allocUnsafeSlow(this.next);
      this.at = 0;
      this.next = this.sizes.base;
    }
    this.regionLength = this.slab.length - this.at;
    return this.slab.subarray(this.at);
  }

  /** The socket read n bytes into the region last handed out: they are the caller's now. */
  claim(n: number): Buffer {
    const chunk = this.slab.subarray(this.at, this.at + n);
    this.at += n;
    if (n === this.regionLength && this.next < this.sizes.max) {
      // Filled: more is likely waiting. at === slab.length now, so region() takes a new slab.
      this.next = Math.min(this.sizes.max, Math.max(this.next, n) * 2);
    }
    return chunk;
  }
}
