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
import { GroupedGetMerger } from "./get-merger.js";
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
  const groups = groupShards.length;
  // Two passes over the keys whatever the number of groups: lengths, then bytes. A 60,000-key
  // get is planned in milliseconds; keys are copied by a loop (at most 250 bytes each), which
  // beats Buffer#copy's argument checks and typed-array view per key.
  const len = new Int32Array(groups).fill(prefix + 1); // CRLF, less the first key's separator
  const count = new Int32Array(groups);
  const first = new Int32Array(groups);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    len[g] += r.keyEnds[i] - r.keyStarts[i] + 1;
    if (count[g]++ === 0) first[g] = i;
  }
  const merge = new GroupedGetMerger(n, prefix);
  const reqs: Buffer[] = [];
  const at = new Int32Array(groups).fill(prefix);
  // Where each fragment's positions start in the merger's fragment order.
  const order = new Int32Array(groups);
  for (let g = 1; g < groups; g++) order[g] = order[g - 1] + count[g - 1];
  for (let g = 0; g < groups; g++) {
    const req = Buffer.allocUnsafe(len[g]);
    b.copy(req, 0, r.cmdStart, r.keyStarts[0]);
    reqs.push(req);
    merge.addPart(req);
  }
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    const req = reqs[g];
    let p = at[g];
    if (p > prefix) req[p++] = 0x20;
    const ks = r.keyStarts[i];
    const ke = r.keyEnds[i];
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
    assert(p <= r.lineEnd - r.cmdStart + 2, "a fragment is never longer than the client's line");
    // Routed by its first key, in the client's buffer (read at once by the pool) when the
    // fragment has several, else in the fragment (where a per-key retry would find it).
    const f = first[g];
    parts.push(
      count[g] === 1
        ? { keyBuf: req, keyStart: prefix, keyEnd: p - 2, request: req }
        : { keyBuf: b, keyStart: r.keyStarts[f], keyEnd: r.keyEnds[f], request: req },
    );
  }
  return { kind: "split", parts, expect: Kind.Multi, merge, silent: false, readOnly: true };
}
