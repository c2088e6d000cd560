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
 * Retries (with auto_eject_hosts): a failed fragment is re-planned by the merger under the
 * current table (get-merger.ts replan): after an ejection its keys may belong to several
 * servers, each gets a fragment of its own, and the replies land at the keys' positions. A
 * fragment that fails again, or whose keys did not move, fails the whole request with the
 * backend's name (as twemproxy fails a request with a failed fragment).
 */
import assert from "node:assert";
import type { TextRequest } from "../../protocol/memcache/text-request.js";
import type { Plan } from "../driver.js";
import { Kind } from "./expect.js";
import { type GetRun, GroupedGetMerger } from "./get-merger.js";
/** memcached's command line limit for anything but get/gets (see above). */
export const GAT_LINE_LIMIT = 2048;

type SplitPlan = Extract<Plan, { kind: "split" }>;
type Part = SplitPlan["parts"][number];

/**
 * Keys per sub-plan of a large retrieval (LargeGet): a request with more keys is planned one
 * batch per event-loop turn, so hashing, grouping and copying its keys, and later matching and
 * writing their replies, is done in slices other clients are served between.
 */
export const BATCH_KEYS = 512;

/**
 * The split plan for a multi-key retrieval, or undefined when every key is on one server (the
 * caller then forwards the client's frame as it is: memcached's reply is already the answer).
 */
export function planMultiGet(
  b: Buffer,
  r: TextRequest,
  shardOf: (buf: Buffer, start: number, end: number) => number,
): SplitPlan | undefined {
  const keys: KeyList = { buf: b, cmdStart: r.cmdStart, starts: r.keyStarts, ends: r.keyEnds };
  return planKeys(keys, 0, r.keyCount, r.lineEnd - r.cmdStart + 2, shardOf, undefined);
}

/**
 * A retrieval of more than BATCH_KEYS keys, planned as consecutive split plans of at most
 * BATCH_KEYS keys each (the client asks for the next one on a later event-loop turn). Their
 * replies, written in order, are the one reply memcached would give: every batch's VALUE
 * blocks, and END after the last one. A batch whose merged reply is an error (a fragment
 * failed for good) ends the reply there, in END's place: the VALUE blocks of earlier batches
 * may already be on their way to the client, so the one line it can still trust is the error,
 * and later batches write nothing.
 *
 * The line is copied once when the request is taken: the client parser's buffer may be
 * reused by later reads meanwhile, and nothing is re-scanned. Its key offsets are read from
 * the parsed request itself (TextRequest keyStarts/keyEnds), which stays as it is until the
 * last batch was taken: the client parser parses nothing else meanwhile (text-client.ts).
 */
export class LargeGet {
  private readonly keys: KeyList;
  private readonly count: number;
  private readonly lineLimit: number;
  private at = 0;
  private readonly run: GetRun = { failed: false };

  constructor(
    b: Buffer,
    r: TextRequest,
    /** The pool's key → server mapping, read again for every batch (a reload may swap it). */
    private readonly shardOf: (buf: Buffer, start: number, end: number) => number,
  ) {
    // The bytes up to the line's end, at their offsets: one native copy, whatever the number
    // of keys; the key offsets are the request's own arrays, read in place.
    const buf = Buffer.allocUnsafeSlow(r.lineEnd);
    b.copy(buf, 0, 0, r.lineEnd);
    this.keys = { buf, cmdStart: r.cmdStart, starts: r.keyStarts, ends: r.keyEnds };
    this.count = r.keyCount;
    this.lineLimit = r.lineEnd - r.cmdStart + 2;
  }

  /** Every batch was planned. */
  get done(): boolean {
    return this.at >= this.count;
  }

  /** The split plan of the next batch of keys. */
  next(): SplitPlan {
    assert(!this.done);
    const from = this.at;
    const to = Math.min(this.count, from + BATCH_KEYS);
    this.at = to;
    const tail = { run: this.run, last: to === this.count };
    const plan = planKeys(this.keys, from, to, this.lineLimit, this.shardOf, tail);
    assert(plan !== undefined);
    return plan;
  }
}

/** Keys [starts[i], ends[i]) of buf, after the command line's prefix [cmdStart, starts[0]). */
interface KeyList {
  buf: Buffer;
  cmdStart: number;
  starts: ArrayLike<number>;
  ends: ArrayLike<number>;
}

/**
 * Keys [from, to) of `keys` grouped by server: one fragment per server, and their merger. A
 * plain request (`tail` undefined) that lands on one server is not split (undefined); a batch
 * of a LargeGet always is, and its merger writes its part of the one reply.
 */
function planKeys(
  keys: KeyList,
  from: number,
  to: number,
  lineLimit: number,
  shardOf: (buf: Buffer, start: number, end: number) => number,
  tail: { run: GetRun; last: boolean } | undefined,
): SplitPlan | undefined {
  const { buf: b, starts, ends } = keys;
  const n = to - from;
  const shard = new Int32Array(n);
  let same = true;
  for (let i = 0; i < n; i++) {
    shard[i] = shardOf(b, starts[from + i], ends[from + i]);
    if (shard[i] !== shard[0]) same = false;
  }
  if (same && tail === undefined) return undefined;
  // Groups in order of first appearance; -1 (no live server) is a group of its own, whose part
  // the pool fails by name.
  const groupOf = new Int32Array(n);
  const groupShards: number[] = [];
  for (let i = 0; i < n; i++) {
    let g = groupShards.indexOf(shard[i]);
    if (g < 0) g = groupShards.push(shard[i]) - 1;
    groupOf[i] = g;
  }
  const prefix = starts[0] - keys.cmdStart; // "<cmd> [<exptime>] "
  const groups = groupShards.length;
  // Two passes over the keys whatever the number of groups: lengths, then bytes. A 60,000-key
  // get is planned in milliseconds; keys are copied by a loop (at most 250 bytes each), which
  // beats Buffer#copy's argument checks and typed-array view per key.
  const len = new Int32Array(groups).fill(prefix + 1); // CRLF, less the first key's separator
  const count = new Int32Array(groups);
  const first = new Int32Array(groups);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    len[g] += ends[from + i] - starts[from + i] + 1;
    if (count[g]++ === 0) first[g] = from + i;
  }
  const merge = new GroupedGetMerger(n, prefix, tail?.run, tail?.last ?? true);
  const reqs: Buffer[] = [];
  const at = new Int32Array(groups).fill(prefix);
  // Where each fragment's positions start in the merger's fragment order.
  const order = new Int32Array(groups);
  for (let g = 1; g < groups; g++) order[g] = order[g - 1] + count[g - 1];
  for (let g = 0; g < groups; g++) {
    const req = Buffer.allocUnsafe(len[g]);
    b.copy(req, 0, keys.cmdStart, starts[0]);
    reqs.push(req);
    merge.addPart(req);
  }
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    const req = reqs[g];
    let p = at[g];
    if (p > prefix) req[p++] = 0x20;
    const ks = starts[from + i];
    const ke = ends[from + i];
    merge.addKey(g, i, p, ke - ks, order[g]++);
    for (let k = ks; k < ke; k++) req[p++] = b[k];
    at[g] = p;
  }
  const parts: Part[] = [];
  for (let g = 0; g < groups; g++) {
    const req = reqs[g];
    let p = at[g];
    req[p++] = 0x0d;
    req[p++] = 0x0a;
    assert.equal(p, len[g]);
    assert(p <= lineLimit, "a fragment is never longer than the client's line");
    // Routed by its first key, in the client's buffer (read at once by the pool; a LargeGet's
    // own copy) when the fragment has several, else in the fragment (where a per-key retry
    // would find it).
    const f = first[g];
    parts.push(
      count[g] === 1
        ? { keyBuf: req, keyStart: prefix, keyEnd: p - 2, request: req }
        : { keyBuf: b, keyStart: starts[f], keyEnd: ends[f], request: req },
    );
  }
  return { kind: "split", parts, expect: Kind.Multi, merge, silent: false };
}
