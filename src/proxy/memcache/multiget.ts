/**
 * Multi-key get/gets/gat/gats, one fragment per server as twemproxy does (nc_memcache.c
 * memcache_fragment: keys grouped by server index, one `get k1 k3 ...` per server), then the
 * client's reply rebuilt in its own key order: a key's VALUE block at each position the key was
 * asked for (duplicates included), misses simply absent, one END (protocol.txt "Retrieval
 * command"; memcached 1.6.18 answers every occurrence of a repeated key, in request order).
 *
 * Line limits: a fragment carries a subset of the client's keys after the same prefix, so its
 * line is never longer than the client's. memcached 1.6.18 (proto_text.c try_read_command_ascii)
 * lets a line without "\n" grow past 2048 bytes only when it starts "get " or "gets " (it
 * switches to a malloc'd read buffer; a 968 KB get line was answered here), and closes the
 * connection otherwise; the client parser enforces the same rule (protocol/memcache/text.ts),
 * so gat/gats fragments stay within 2048 bytes and get/gets fragments need no split.
 *
 * Retries: a one-key fragment keeps the pool's per-key retry (its key bytes are its request,
 * pool.ts route "split"); a fragment of several keys is not retried, because after an ejection
 * its keys belong to different servers; its failure fails the whole request with the backend's
 * name, as any failed part did before (and as twemproxy fails a request with a failed fragment).
 */
import assert from "node:assert";
import type { TextRequest } from "../../protocol/memcache/text-request.js";
import type { OutBuffer } from "../../util/out-buffer.js";
import type { Merger, Plan } from "../driver.js";
import { Kind } from "./expect.js";
import { isErrorLine } from "./framer.js";

const END = Buffer.from("END\r\n");
/** memcached's command line limit for anything but get/gets (see above). */
export const GAT_LINE_LIMIT = 2048;

type SplitPlan = Extract<Plan, { kind: "split" }>;
type Part = SplitPlan["parts"][number];

/**
 * The split plan for a multi-key retrieval, or undefined when every key is on one server (the
 * caller then forwards the client's frame as it is: memcached's reply is already the answer).
 */
export function planMultiGet(
  b: Buffer,
  r: TextRequest,
  shardOf: (buf: Buffer, start: number, end: number) => number,
): SplitPlan | undefined {
  const n = r.keyCount;
  const shard = new Int32Array(n);
  let same = true;
  for (let i = 0; i < n; i++) {
    shard[i] = shardOf(b, r.keyStarts[i], r.keyEnds[i]);
    if (shard[i] !== shard[0]) same = false;
  }
  if (same) return undefined;
  // Groups in order of first appearance; -1 (no live server) is a group of its own, whose part
  // the pool fails by name.
  const groupOf = new Int32Array(n);
  const groupShards: number[] = [];
  for (let i = 0; i < n; i++) {
    let g = groupShards.indexOf(shard[i]);
    if (g < 0) g = groupShards.push(shard[i]) - 1;
    groupOf[i] = g;
  }
  const prefix = r.keyStarts[0] - r.cmdStart; // "<cmd> [<exptime>] "
  const merge = new GroupedGetMerger(n);
  const parts: Part[] = [];
  for (let g = 0; g < groupShards.length; g++) {
    let len = prefix + 2;
    let count = 0;
    for (let i = 0; i < n; i++)
      if (groupOf[i] === g) {
        len += r.keyEnds[i] - r.keyStarts[i] + (count > 0 ? 1 : 0);
        count++;
      }
    const req = Buffer.allocUnsafe(len);
    b.copy(req, 0, r.cmdStart, r.keyStarts[0]);
    let p = prefix;
    let first = -1;
    for (let i = 0; i < n; i++) {
      if (groupOf[i] !== g) continue;
      if (first >= 0) req[p++] = 0x20;
      else first = i;
      merge.addKey(parts.length, i, p, r.keyEnds[i] - r.keyStarts[i]);
      p += b.copy(req, p, r.keyStarts[i], r.keyEnds[i]);
    }
    req[p++] = 0x0d;
    req[p++] = 0x0a;
    assert.equal(p, len);
    assert(len <= r.lineEnd - r.cmdStart + 2, "a fragment is never longer than the client's line");
    merge.addPart(req);
    // One key: its bytes in the request route a retry. Several: routed by the first key in
    // the client's buffer (read at once by the pool), which leaves the part without retry.
    parts.push(
      count === 1
        ? { keyBuf: req, keyStart: prefix, keyEnd: p - 2, request: req }
        : { keyBuf: b, keyStart: r.keyStarts[first], keyEnd: r.keyEnds[first], request: req },
    );
  }
  return { kind: "split", parts, expect: Kind.Multi, merge, silent: false };
}

/**
 * Rebuilds the client's reply from one reply per fragment. Replies list hits in the fragment's
 * key order, so each VALUE block is matched to the next key of its fragment with equal bytes
 * (one forward walk, no key strings).
 */
export class GroupedGetMerger implements Merger {
  private readonly requests: Buffer[] = [];
  private readonly replies: (Buffer | undefined)[] = [];
  private error: Buffer | undefined;
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

  constructor(n: number) {
    this.partOf = new Int32Array(n);
    this.keyAt = new Int32Array(n);
    this.keyLen = new Int32Array(n);
    this.byPart = new Int32Array(n);
    this.blockStart = new Int32Array(n).fill(-1);
    this.blockEnd = new Int32Array(n);
  }

  addKey(part: number, position: number, at: number, len: number): void {
    this.partOf[position] = part;
    this.keyAt[position] = at;
    this.keyLen[position] = len;
    this.byPart[this.filled++] = position;
  }

  addPart(request: Buffer): void {
    this.requests.push(request);
  }

  add(index: number, reply: Buffer): void {
    this.replies[index] = reply;
  }

  fail(_index: number, reason: string): void {
    this.error ??= Buffer.from(`SERVER_ERROR ${reason}\r\n`, "latin1");
  }

  write(out: OutBuffer): void {
    let next = 0; // index into byPart: fragments were added in order
    for (let p = 0; p < this.requests.length && this.error === undefined; p++) {
      let last = next;
      while (last < this.filled && this.partOf[this.byPart[last]] === p) last++;
      const r = this.replies[p];
      if (r !== undefined) this.match(p, r, next, last);
      next = last;
    }
    if (this.error !== undefined) {
      out.bytes(this.error, 0, this.error.length);
      return;
    }
    for (let i = 0; i < this.partOf.length; i++) {
      const s = this.blockStart[i];
      if (s >= 0) out.bytes(this.replies[this.partOf[i]] as Buffer, s, this.blockEnd[i]);
    }
    out.bytes(END, 0, END.length);
  }

  /** Records the VALUE blocks of fragment p's reply against its positions byPart[from, to). */
  private match(p: number, r: Buffer, from: number, to: number): void {
    const req = this.requests[p];
    let k = from;
    let pos = 0;
    while (pos < r.length) {
      const nl = r.indexOf(10, pos);
      if (nl < 0) break;
      const lineEnd = nl > pos && r[nl - 1] === 13 ? nl - 1 : nl;
      if (!startsWithValue(r, pos, lineEnd)) {
        // END, or an error line (the framer ends a retrieval reply at any other line).
        if (isErrorLine(r, pos, lineEnd)) this.error = Buffer.from(r.subarray(pos, nl + 1));
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
