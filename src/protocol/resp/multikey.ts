/**
 * Split/merge plans for the multi-key commands a sharding proxy fans out (as twemproxy does in
 * nc_redis.c redis_fragment / redis_post_coalesce, plus TOUCH): MGET, MSET, DEL, UNLINK,
 * EXISTS, TOUCH. MSETNX must be atomic, so it is only allowed when every key is on one shard.
 * Pure: sub-requests are new Buffers made of array/bulk headers plus the original argument
 * bytes; replies are merged by copying byte ranges (MGET) or adding integers.
 */
import type { ArgView } from "./command-types.js";
import { Cmd } from "./commands.js";
import {
  arrayHeader,
  encodeRequest,
  errorReply,
  headerLen,
  integer,
  writeArrayHeader,
} from "./encoder.js";
import { RespType } from "./reply.js";

/** Maps a key, buf[start, end), to a shard index. */
export type ShardOf = (buf: Buffer, start: number, end: number) => number;

export interface SubRequest {
  shard: number;
  /** A complete multibulk to send to the shard. */
  request: Buffer;
  /** MGET: for each element of this shard's reply, its position in the merged reply. */
  positions: number[];
}

export type MergeKind = "mget" | "sum" | "ok";

export type SplitPlan =
  | { kind: MergeKind; subs: SubRequest[]; keyCount: number }
  /** Not allowed as asked: answer the client with `reply` and send nothing. */
  | { kind: "refuse"; reply: Buffer };

/** The parts of a framed reply the merge reads (RespReply satisfies it). */
export interface ReplyView {
  buf: Buffer;
  frameStart: number;
  frameEnd: number;
  type: number;
  int: number;
  count: number;
  elemStart: number[];
  elemEnd: number[];
}

const KIND = new Map<number, { kind: MergeKind; step: number; name: string }>([
  [Cmd.MGET, { kind: "mget", step: 1, name: "mget" }],
  [Cmd.MSET, { kind: "ok", step: 2, name: "mset" }],
  [Cmd.MSETNX, { kind: "ok", step: 2, name: "msetnx" }],
  [Cmd.DEL, { kind: "sum", step: 1, name: "del" }],
  [Cmd.UNLINK, { kind: "sum", step: 1, name: "unlink" }],
  [Cmd.EXISTS, { kind: "sum", step: 1, name: "exists" }],
  [Cmd.TOUCH, { kind: "sum", step: 1, name: "touch" }],
]);

/** True for the commands planSplit handles. */
export function isSplitCommand(cmd: number): boolean {
  return KIND.has(cmd);
}

/**
 * Plans a multi-key command (cmd from the parser) across shards, or returns null if cmd is not
 * one of them. Keys on the same shard keep their relative order in that shard's sub-request.
 */
export function planSplit(cmd: number, req: ArgView, shardOf: ShardOf): SplitPlan | null {
  const k = KIND.get(cmd);
  if (k === undefined) return null;
  const keyCount = Math.floor((req.argc - 1) / k.step);
  if (req.argc < 2 || (req.argc - 1) % k.step !== 0) {
    // redis-server's arity error text (server.c processCommand).
    return {
      kind: "refuse",
      reply: errorReply(`wrong number of arguments for '${k.name}' command`),
    };
  }
  const byShard = new Map<number, { indexes: number[]; positions: number[] }>();
  for (let p = 0; p < keyCount; p++) {
    const i = 1 + p * k.step;
    const shard = shardOf(req.buf, req.argStart[i], req.argEnd[i]);
    let g = byShard.get(shard);
    if (g === undefined) byShard.set(shard, (g = { indexes: [0], positions: [] }));
    for (let j = 0; j < k.step; j++) g.indexes.push(i + j);
    g.positions.push(p);
  }
  if (cmd === Cmd.MSETNX && byShard.size > 1) {
    return { kind: "refuse", reply: errorReply("MSETNX keys must all be on the same shard") };
  }
  const subs: SubRequest[] = [];
  for (const [shard, g] of byShard) {
    subs.push({ shard, request: encodeRequest(req, g.indexes), positions: g.positions });
  }
  // MSETNX answers :1/:0 from its one shard; pass that through rather than expect +OK.
  return { kind: cmd === Cmd.MSETNX ? "sum" : k.kind, subs, keyCount };
}

/**
 * Collects the sub-replies of a plan (in any order) and builds the client's reply. Replies
 * are copied on add(), since a framer reuses its buffers. Any error reply wins (the first to
 * arrive, as twemproxy fails the whole request when a fragment fails).
 */
export class Merger {
  private readonly got: Array<Buffer | undefined>;
  private readonly elems: Array<{ start: number[]; end: number[] } | undefined>;
  private received = 0;
  private sum = 0;
  private failure: Buffer | undefined;

  constructor(private readonly plan: Extract<SplitPlan, { subs: SubRequest[] }>) {
    this.got = new Array(plan.subs.length);
    this.elems = new Array(plan.subs.length);
  }

  get complete(): boolean {
    return this.received === this.plan.subs.length;
  }

  add(sub: number, reply: ReplyView): void {
    if (this.got[sub] !== undefined) throw new Error(`sub-reply ${sub} added twice`);
    const frame = Buffer.from(reply.buf.subarray(reply.frameStart, reply.frameEnd));
    this.got[sub] = frame;
    this.received++;
    if (this.failure !== undefined) return;
    const t = reply.type;
    if (t === RespType.Error || t === RespType.BlobError) {
      this.failure = frame;
      return;
    }
    const kind = this.plan.kind;
    if (kind === "sum") {
      if (t !== RespType.Integer) this.failure = errorReply("unexpected reply from shard");
      else this.sum += reply.int;
    } else if (kind === "ok") {
      if (t !== RespType.SimpleString) this.failure = errorReply("unexpected reply from shard");
    } else {
      const want = this.plan.subs[sub].positions.length;
      if ((t !== RespType.Array && t !== RespType.Set) || reply.count !== want) {
        this.failure = errorReply("unexpected reply from shard");
        return;
      }
      const base = reply.frameStart;
      this.elems[sub] = {
        start: reply.elemStart.map((s) => s - base),
        end: reply.elemEnd.map((e) => e - base),
      };
    }
  }

  /** The reply for the client; call once complete. */
  result(): Buffer {
    if (!this.complete) throw new Error("merge result requested before all sub-replies arrived");
    if (this.failure !== undefined) return this.failure;
    if (this.plan.kind === "sum") return integer(this.sum);
    if (this.plan.kind === "ok") return OK;
    return this.mget();
  }

  /** Re-assembles MGET elements in key order by copying their byte ranges. */
  private mget(): Buffer {
    const n = this.plan.keyCount;
    const srcBuf: Buffer[] = new Array(n);
    const srcStart: number[] = new Array(n);
    const srcEnd: number[] = new Array(n);
    let size = headerLen(n);
    this.plan.subs.forEach((s, i) => {
      const e = this.elems[i]!;
      s.positions.forEach((p, j) => {
        srcBuf[p] = this.got[i]!;
        srcStart[p] = e.start[j];
        srcEnd[p] = e.end[j];
        size += e.end[j] - e.start[j];
      });
    });
    if (n === 0) return arrayHeader(0);
    const out = Buffer.allocUnsafe(size);
    let off = writeArrayHeader(out, 0, n);
    for (let p = 0; p < n; p++) off += srcBuf[p].copy(out, off, srcStart[p], srcEnd[p]);
    return out;
  }
}

const OK = Buffer.from("+OK\r\n");
