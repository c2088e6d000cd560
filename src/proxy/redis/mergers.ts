/**
 * The driver.ts Merger implementations for Redis: split multi-key commands (merged by
 * protocol/resp/multikey.ts) and keyless commands broadcast to every server (FLUSHALL, DBSIZE,
 * RANDOMKEY, SCRIPT LOAD, INFO). Like twemproxy (nc_redis.c redis_post_coalesce), a failed part
 * fails the whole request; an error reply from any server is what the client gets.
 */
import assert from "node:assert";
import { bulk, errorReply, integer, nullReply } from "../../protocol/resp/encoder.js";
import { Merger as SplitMerger, type SplitPlan } from "../../protocol/resp/multikey.js";
import { ParseStatus } from "../../protocol/resp/parser.js";
import { type RespReply, RespReplyFramer, RespType } from "../../protocol/resp/reply.js";
import type { OutBuffer } from "../../util/out-buffer.js";
import { VERSION } from "../../version.js";
import type { Merger } from "../driver.js";
import { Keyless } from "./policy.js";

/** Frames one whole reply the core handed over (a copy of exactly one frame). */
function frame(reply: Buffer): RespReply {
  const f = new RespReplyFramer();
  f.feed(reply);
  const s = f.next();
  assert(s === ParseStatus.Ok, "merger got a reply that is not one whole RESP frame");
  return f.reply;
}

const isErr = (t: number): boolean => t === RespType.Error || t === RespType.BlobError;

/** MGET/MSET/DEL/UNLINK/EXISTS/TOUCH parts, one per server group. */
export class SplitMerge implements Merger {
  private readonly inner: SplitMerger;
  private failure: Buffer | undefined;

  constructor(plan: Extract<SplitPlan, { subs: unknown[] }>) {
    this.inner = new SplitMerger(plan);
  }

  add(index: number, reply: Buffer): void {
    this.inner.add(index, frame(reply));
  }

  fail(_index: number, reason: string): void {
    this.failure ??= errorReply(reason);
  }

  write(out: OutBuffer): void {
    const r = this.failure ?? this.inner.result();
    out.bytes(r, 0, r.length);
  }
}

type BroadcastKind = Exclude<Keyless, typeof Keyless.Any>;

/** A keyless command sent to every server of the pool. */
export class BroadcastMerge implements Merger {
  private readonly replies: Array<Buffer | undefined>;
  private failure: Buffer | undefined;

  constructor(
    private readonly kind: BroadcastKind,
    servers: number,
    private readonly resp3: boolean,
  ) {
    this.replies = new Array(servers);
  }

  add(index: number, reply: Buffer): void {
    this.replies[index] = reply;
  }

  fail(_index: number, reason: string): void {
    this.failure ??= errorReply(reason);
  }

  write(out: OutBuffer): void {
    const r = this.result();
    out.bytes(r, 0, r.length);
  }

  private result(): Buffer {
    if (this.failure !== undefined) return this.failure;
    const framed: RespReply[] = [];
    for (const [i, b] of this.replies.entries()) {
      if (b === undefined) return errorReply(`no reply from server ${i}`);
      const r = frame(b);
      if (isErr(r.type)) return b; // the first server's error, in server order
      framed.push(r);
    }
    switch (this.kind) {
      case Keyless.BroadcastOk:
        return OK;
      case Keyless.BroadcastSum: {
        let sum = 0;
        for (const r of framed) {
          if (r.type !== RespType.Integer) return errorReply("unexpected reply from a server");
          sum += r.int;
        }
        return integer(sum);
      }
      case Keyless.BroadcastFirstNonNull: {
        // RANDOMKEY: an empty server answers null; any other server's key is as random.
        for (const [i, r] of framed.entries()) {
          const isNull = r.type === RespType.Null || (r.type === RespType.Bulk && r.count < 0);
          if (!isNull) return this.replies[i]!;
        }
        return nullReply(this.resp3);
      }
      case Keyless.BroadcastSame:
        return this.replies[0]!;
      case Keyless.BroadcastInfo:
        return info(framed[0], this.replies[0]!, this.replies.length);
    }
  }
}

const OK = Buffer.from("+OK\r\n");

/**
 * INFO through the proxy: a `# Keepcache` section, then the first server's own INFO text
 * (servers of one pool normally run one version and config; per-server figures such as
 * keyspace are that server's). Always a bulk string, which RESP3 clients accept too.
 */
function info(r: RespReply, raw: Buffer, servers: number): Buffer {
  let body = "";
  if (r.type === RespType.Bulk && r.count >= 0) {
    const start = raw.indexOf(0x0a) + 1;
    body = raw.toString("latin1", start, start + r.count);
  } else if (r.type === RespType.Verbatim) {
    const start = raw.indexOf(0x0a) + 1 + 4; // "txt:" (RESP3 verbatim format prefix)
    body = raw.toString("latin1", start, start + r.count - 4);
  }
  const head =
    "# Keepcache\r\n" +
    `keepcache_version:${VERSION}\r\n` +
    "proxy_mode:sharding\r\n" +
    `pool_servers:${servers}\r\n` +
    "info_from_server:0\r\n\r\n";
  return bulk(Buffer.from(head + body, "latin1"));
}
