/**
 * A case-insensitive name → id table looked up by bytes, so the request hot path finds a
 * command without allocating a string (redis itself lowercases into a dict lookup,
 * server.c lookupCommandBySds; we avoid that per-request allocation).
 * Open addressing over an Int32Array; names are ASCII (Redis command names are).
 */
import assert from "node:assert";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** ASCII lower-case of one byte: only A-Z change. */
function lower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

function hashBytes(seed: number, buf: Uint8Array, start: number, end: number): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ lower(buf[i]), FNV_PRIME);
  return h >>> 0;
}

export class NameTable {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly names: Buffer[] = [];
  private readonly seeds: number[] = [];
  private readonly ids: number[] = [];
  private readonly maxLen: number;

  /** entries: [seed, lower-case name, id]; the seed scopes a name (e.g. subcommands by parent id). */
  constructor(entries: ReadonlyArray<readonly [number, string, number]>) {
    let size = 16;
    while (size < entries.length * 4) size <<= 1;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    let maxLen = 0;
    for (const [seed, name, id] of entries) {
      const bytes = Buffer.from(name, "latin1");
      assert(bytes.toString("latin1").toLowerCase() === name, `name must be lower-case: ${name}`);
      assert(this.lookup(seed, bytes, 0, bytes.length) === -1, `duplicate name ${name}`);
      const k = this.names.length;
      this.names.push(bytes);
      this.seeds.push(seed);
      this.ids.push(id);
      maxLen = Math.max(maxLen, bytes.length);
      let s = hashBytes(seed, bytes, 0, bytes.length) & this.mask;
      while (this.slots[s] !== -1) s = (s + 1) & this.mask;
      this.slots[s] = k;
    }
    this.maxLen = maxLen;
  }

  /** The id of buf[start, end) (any case) under seed, or -1. */
  lookup(seed: number, buf: Uint8Array, start: number, end: number): number {
    const len = end - start;
    if (len <= 0 || len > this.maxLen) return -1;
    let s = hashBytes(seed, buf, start, end) & this.mask;
    for (;;) {
      const k = this.slots[s];
      if (k === -1) return -1;
      if (this.seeds[k] === seed && this.equal(this.names[k], buf, start, len)) return this.ids[k];
      s = (s + 1) & this.mask;
    }
  }

  private equal(name: Buffer, buf: Uint8Array, start: number, len: number): boolean {
    if (name.length !== len) return false;
    for (let i = 0; i < len; i++) if (name[i] !== lower(buf[start + i])) return false;
    return true;
  }
}
