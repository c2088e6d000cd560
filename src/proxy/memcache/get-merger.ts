/**
 * The merger of a multi-key retrieval sent as one fragment per server (multiget.ts): it puts
 * the fragments' VALUE blocks back in the client's key order (protocol.txt "Retrieval
 * command": every occurrence of a hit key, in request order, then one END), and re-plans a
 * failed fragment by key for the pool's one retry (driver.ts Merger.replan).
 */
import assert from "node:assert";
import { findNewline } from "../../protocol/memcache/text.js";
import type { OutBuffer } from "../../util/out-buffer.js";
import type { KeyPicker, Merger, SplitPart } from "../driver.js";
import { isErrorLine } from "./framer.js";

const END = Buffer.from("END\r\n");

/**
 * The batches of one large retrieval (multiget.ts LargeGet) write one reply between them: a
 * batch that wrote an error ended it, and the batches after it write nothing.
 */
export interface GetRun {
  failed: boolean;
}

/**
 * Rebuilds the client's reply from one reply per fragment. Replies list hits in the fragment's
 * key order, so each VALUE block is matched to the next key of its fragment with equal bytes
 * (one forward walk, no key strings).
 */
export class GroupedGetMerger implements Merger {
  private readonly requests: Buffer[] = [];
  private readonly replies: (Buffer | undefined)[] = [];
  /** A failed fragment's reason (fail()). */
  private error: Buffer | undefined;
  /** Per fragment: the error line its server answered instead of VALUE blocks. */
  private readonly lineErrors: (Buffer | undefined)[] = [];
  /** Per client key position: its fragment, and its key's place in that fragment's request. */
  private readonly partOf: Int32Array;
  private readonly keyAt: Int32Array;
  private readonly keyLen: Int32Array;
  /** Client positions in fragment order (positions of one fragment are ascending). */
  private readonly byPart: Int32Array;
  private filled = 0;
  /** Where the VALUE block of each position lies in its fragment's reply (-1: a miss). */
  private readonly blockStart: Int32Array;
  private readonly blockEnd: Int32Array;

  constructor(
    n: number,
    /** Bytes before the first key in every fragment: "<cmd> [<exptime>] ". */
    private readonly prefix: number,
    /** The large retrieval this merger writes a batch of (undefined: a request of its own). */
    private readonly run: GetRun | undefined = undefined,
    /** Ends the client's reply with END (false for a large retrieval's batches but its last). */
    private readonly last = true,
  ) {
    this.partOf = new Int32Array(n);
    this.keyAt = new Int32Array(n);
    this.keyLen = new Int32Array(n);
    this.byPart = new Int32Array(n);
    this.blockStart = new Int32Array(n).fill(-1);
    this.blockEnd = new Int32Array(n);
  }

  /**
   * Client key `position` is the key at `at` (length `len`) of fragment `part`, and the
   * `order`-th position in fragment order (all of fragment 0's positions ascending, then
   * fragment 1's, ...).
   */
  addKey(part: number, position: number, at: number, len: number, order: number): void {
    this.partOf[position] = part;
    this.keyAt[position] = at;
    this.keyLen[position] = len;
    this.byPart[order] = position;
    this.filled++;
  }

  addPart(request: Buffer): void {
    this.requests.push(request);
  }

  /**
   * Fragment `index` answered. Its VALUE blocks are matched to their keys now, so the work of
   * a large get is spread over the reads that complete its fragments rather than done in one
   * pass when the last one arrives.
   */
  add(index: number, reply: Buffer): void {
    this.replies[index] = reply;
    let from = 0;
    while (from < this.filled && this.partOf[this.byPart[from]] !== index) from++;
    let to = from;
    while (to < this.filled && this.partOf[this.byPart[to]] === index) to++;
    this.match(index, reply, from, to);
  }

  fail(_index: number, reason: string): void {
    this.error ??= Buffer.from(`SERVER_ERROR ${reason}\r\n`, "latin1");
  }

  /**
   * Fragment `index` failed: its keys, in client order, are regrouped by `picker` (the pool's
   * table now) into new fragments numbered from the current fragment count, as planMultiGet
   * groups them (order of first appearance; -1, no live server, is a group the pool fails).
   * Its positions move to the new fragments, so the failed one is merged as empty.
   */
  replan(index: number, picker: KeyPicker): { first: number; parts: SplitPart[] } | undefined {
    const old = this.requests[index];
    if (old === undefined || this.replies[index] !== undefined) return undefined;
    const positions: number[] = [];
    for (let i = 0; i < this.partOf.length; i++) if (this.partOf[i] === index) positions.push(i);
    if (positions.length === 0) return undefined;
    const shards: number[] = [];
    const groupOf = positions.map((pos) => {
      const at = this.keyAt[pos];
      const s = picker.pick(old, at, at + this.keyLen[pos]);
      const g = shards.indexOf(s);
      return g >= 0 ? g : shards.push(s) - 1;
    });
    const first = this.requests.length;
    const parts: SplitPart[] = [];
    for (let g = 0; g < shards.length; g++) {
      let len = this.prefix + 1; // CRLF, less the separator the first key does not have
      for (let k = 0; k < positions.length; k++)
        if (groupOf[k] === g) len += this.keyLen[positions[k]] + 1;
      const req = Buffer.allocUnsafe(len);
      let p = old.copy(req, 0, 0, this.prefix);
      let firstKey = -1;
      let firstLen = 0;
      for (let k = 0; k < positions.length; k++) {
        if (groupOf[k] !== g) continue;
        const pos = positions[k];
        if (firstKey >= 0) req[p++] = 0x20;
        else {
          firstKey = p;
          firstLen = this.keyLen[pos];
        }
        const at = this.keyAt[pos];
        this.partOf[pos] = first + g;
        this.keyAt[pos] = p;
        p += old.copy(req, p, at, at + this.keyLen[pos]);
      }
      req[p++] = 0x0d;
      req[p++] = 0x0a;
      assert.equal(p, len);
      this.requests.push(req);
      parts.push({ keyBuf: req, keyStart: firstKey, keyEnd: firstKey + firstLen, request: req });
    }
    // byPart lists each fragment's positions in client order, fragment after fragment.
    let f = 0;
    for (let q = 0; q < this.requests.length; q++)
      for (let i = 0; i < this.partOf.length; i++) if (this.partOf[i] === q) this.byPart[f++] = i;
    assert.equal(f, this.filled);
    return { first, parts };
  }

  write(out: OutBuffer): void {
    const run = this.run;
    if (run?.failed) return;
    // A failure, else the first fragment (in fragment order) whose server answered an error.
    let error = this.error;
    for (let p = 0; error === undefined && p < this.requests.length; p++)
      error = this.lineErrors[p];
    if (error !== undefined) {
      out.bytes(error, 0, error.length);
      if (run !== undefined) run.failed = true;
      return;
    }
    // One allocation for the whole reply rather than a doubling series.
    let total = this.last ? END.length : 0;
    for (let i = 0; i < this.partOf.length; i++)
      if (this.blockStart[i] >= 0) total += this.blockEnd[i] - this.blockStart[i];
    out.ensure(total);
    // Blocks that follow each other in one fragment's reply (consecutive keys of one server)
    // are copied as one range: fewer copies, and no view object per VALUE block.
    let src: Buffer | undefined;
    let from = 0;
    let to = 0;
    for (let i = 0; i < this.partOf.length; i++) {
      const s = this.blockStart[i];
      if (s < 0) continue;
      const reply = this.replies[this.partOf[i]] as Buffer;
      if (reply === src && s === to) {
        to = this.blockEnd[i];
        continue;
      }
      if (src !== undefined) out.bytes(src, from, to);
      src = reply;
      from = s;
      to = this.blockEnd[i];
    }
    if (src !== undefined) out.bytes(src, from, to);
    if (this.last) out.bytes(END, 0, END.length);
  }

  /** Records the VALUE blocks of fragment p's reply against its positions byPart[from, to). */
  private match(p: number, r: Buffer, from: number, to: number): void {
    const req = this.requests[p];
    let k = from;
    let pos = 0;
    while (pos < r.length) {
      const nl = findNewline(r, pos, r.length);
      if (nl < 0) break;
      const lineEnd = nl > pos && r[nl - 1] === 13 ? nl - 1 : nl;
      if (!startsWithValue(r, pos, lineEnd)) {
        // END, or an error line (the framer ends a retrieval reply at any other line).
        if (isErrorLine(r, pos, lineEnd)) this.lineErrors[p] = Buffer.from(r.subarray(pos, nl + 1));
        return;
      }
      // VALUE <key> <flags> <bytes> [<cas unique>]: the framer checked the shape already.
      const ks = pos + 6;
      let ke = ks;
      while (ke < lineEnd && r[ke] !== 0x20) ke++;
      const blockEnd = nl + 1 + dataLength(r, ke, lineEnd) + 2;
      while (
        k < to &&
        !sameKey(r, ks, ke, req, this.keyAt[this.byPart[k]], this.keyLen[this.byPart[k]])
      )
        k++;
      if (k < to) {
        const position = this.byPart[k++];
        this.blockStart[position] = pos;
        this.blockEnd[position] = blockEnd;
      }
      pos = blockEnd;
    }
  }
}

function startsWithValue(b: Buffer, s: number, e: number): boolean {
  return (
    e - s > 6 &&
    b[s] === 0x56 &&
    b[s + 1] === 0x41 &&
    b[s + 2] === 0x4c &&
    b[s + 3] === 0x55 &&
    b[s + 4] === 0x45 &&
    b[s + 5] === 0x20
  );
}

/** The <bytes> field: the second token after the key ending at `ke`. */
function dataLength(b: Buffer, ke: number, e: number): number {
  let i = ke + 1;
  while (i < e && b[i] !== 0x20) i++; // flags
  let n = 0;
  for (i++; i < e && b[i] !== 0x20; i++) n = n * 10 + (b[i] - 48);
  return n;
}

function sameKey(a: Buffer, as: number, ae: number, b: Buffer, bs: number, bl: number): boolean {
  if (ae - as !== bl) return false;
  for (let i = 0; i < bl; i++) if (a[as + i] !== b[bs + i]) return false;
  return true;
}
