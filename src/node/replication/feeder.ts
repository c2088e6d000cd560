/**
 * The serving end of a replication link (accepted on the replication port). Direction of data:
 * each node PULLS from every peer over the link it dials (pull-link.ts), as a Redis replica
 * pulls from its master; so an accepted link carries THIS node's data to the dialer:
 *
 *   dialer -> PSYNC(run id, offset)      (the last offset it applied from our run id)
 *   us     -> CONTINUE + backlog bytes   when our backlog still covers that offset
 *          -> FULLSYNC(run id, head) + SNAP items (store.scan, chunked, while serving)
 *             interleaved with live REC frames from `head` on, then SNAP_END
 *   dialer -> ACK(offset) after applying; PING -> us PONG
 *
 * Live records are logged before the scan starts (FULLSYNC names the head offset), and the
 * dialer applies both streams by last-writer-wins, so their interleaving does not matter.
 * Only this node's own writes are in the backlog; a full sync sends everything we hold.
 * Memory stays bounded: a dialer too slow for the ring is cut off and full-syncs on return.
 */

import type { Socket } from "node:net";
import { KeepcacheError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { ReplicationCounters } from "../../metrics/table.js";
import type { BacklogRing } from "./backlog.js";
import type { LocalIdentity } from "./channel.js";
import { Channel } from "./channel.js";
import {
  decodeSync,
  decodeU64Frame,
  encodeEmpty,
  encodeSync,
  encodeU64Frame,
  type Frame,
  FrameType,
  type Hello,
  RecOp,
  recordFrameLength,
  writeRecord,
} from "./frame.js";
import type { ReplicationOptions } from "./options.js";
import type { ReplicatedStore } from "./replicated-store.js";

const READ_BYTES = 1024 * 1024;
const SNAP_CHUNK = 256 * 1024;
const SNAP_ITEMS_PER_STEP = 2048;
/** Stop sending (wait for 'drain') while this much is queued in the socket. */
const HIGH_WATER = 8 * 1024 * 1024;

export type FeedMode = "handshake" | "full_sync" | "streaming" | "closed";

/** What a feeder uses of the node's replication (replication.ts implements it). */
export interface FeederHost {
  readonly identity: LocalIdentity;
  readonly maxFrameBytes: number;
  readonly opts: ReplicationOptions;
  readonly counters: ReplicationCounters;
  readonly log: Logger;
  readonly backlog: BacklogRing;
  readonly store: ReplicatedStore;
  now(): number;
  attachFeeder(f: Feeder, h: Hello, remoteAddress: string): void;
  feederClosed(f: Feeder, reason: string, authFailed: boolean): void;
  onAck(f: Feeder, seq: number): void;
}

export class Feeder {
  readonly ch: Channel;
  mode: FeedMode = "handshake";
  hello: Hello | undefined;
  private pos = 0;
  private blocked = false;
  private cursor = 0;
  private snapWaiting = false;
  private snapBuf = Buffer.allocUnsafe(SNAP_CHUNK);
  private snapPos = 0;
  snapItems = 0;
  private snapStarted = 0;

  constructor(
    private readonly repl: FeederHost,
    socket: Socket,
  ) {
    this.ch = new Channel(socket, repl.identity, repl.maxFrameBytes, repl.opts.peerTimeoutMs, {
      onReady: (h) => {
        this.hello = h;
        repl.attachFeeder(this, h, socket.remoteAddress ?? "");
      },
      onFrame: (buf, f) => this.onFrame(buf, f),
      onBatchEnd: () => {},
      onClose: (why) => {
        this.mode = "closed";
        repl.feederClosed(this, why.message, why.code === "KC_REPLICATION_AUTH");
      },
    });
    socket.on("drain", () => {
      this.blocked = false;
      this.pump();
      if (this.snapWaiting) {
        this.snapWaiting = false;
        setImmediate(this.snapStep);
      }
    });
  }

  private onFrame(buf: Buffer, f: Frame): void {
    switch (f.type) {
      case FrameType.Psync: {
        if (this.mode !== "handshake") throw new KeepcacheError("KC_REPLICATION", "PSYNC twice");
        const p = decodeSync(buf, f);
        this.startSync(p.runId, p.offset);
        return;
      }
      case FrameType.Ack:
        this.repl.onAck(this, decodeU64Frame(buf, f));
        return;
      case FrameType.Ping:
        this.ch.send(encodeU64Frame(FrameType.Pong, decodeU64Frame(buf, f)));
        return;
      default:
        throw new KeepcacheError("KC_REPLICATION", `unexpected frame ${f.type} on a serving link`);
    }
  }

  private startSync(runId: Buffer, offset: number): void {
    const r = this.repl;
    const b = r.backlog;
    if (runId.equals(r.identity.runId) && b.covers(offset)) {
      this.ch.send(encodeSync(FrameType.Continue, { runId: r.identity.runId, offset }));
      this.pos = b.positionAfter(offset);
      this.mode = "streaming";
      r.counters.repl_partial_syncs_served++;
      r.log.info(
        { peer: this.hello?.nodeId, offset, behind: b.headSeq - offset },
        "partial sync to peer",
      );
      this.pump();
      return;
    }
    this.ch.send(encodeSync(FrameType.FullSync, { runId: r.identity.runId, offset: b.headSeq }));
    this.pos = b.headPos;
    this.mode = "full_sync";
    this.cursor = 0;
    this.snapItems = 0;
    this.snapStarted = Date.now();
    r.counters.repl_full_syncs_served++;
    r.log.info({ peer: this.hello?.nodeId }, "full sync to peer started");
    setImmediate(this.snapStep);
  }

  /** Sends backlog bytes the peer has not had yet, until the socket pushes back. */
  pump(): void {
    if ((this.mode !== "streaming" && this.mode !== "full_sync") || this.blocked) return;
    const b = this.repl.backlog;
    while (this.pos < b.headPos) {
      if (b.lost(this.pos)) {
        this.repl.counters.repl_backlog_overruns++;
        this.ch.close("peer fell behind the replication backlog");
        return;
      }
      const chunk = b.read(this.pos, READ_BYTES);
      this.pos += chunk.length;
      this.ch.send(chunk);
      if (this.ch.socket.writableLength > HIGH_WATER) {
        this.blocked = true;
        return;
      }
    }
  }

  private readonly snapStep = (): void => {
    if (this.mode !== "full_sync") return;
    this.pump();
    const store = this.repl.store;
    this.cursor = store.scan(this.cursor, SNAP_ITEMS_PER_STEP, this.repl.now(), this.emit, true);
    this.flushSnap();
    if (this.ch.isClosed) return;
    if (this.cursor === 0) {
      this.ch.send(encodeEmpty(FrameType.SnapEnd));
      this.mode = "streaming";
      this.repl.log.info(
        { peer: this.hello?.nodeId, items: this.snapItems, ms: Date.now() - this.snapStarted },
        "full sync to peer sent",
      );
      this.pump();
      return;
    }
    if (this.blocked || this.ch.socket.writableLength > HIGH_WATER) {
      this.blocked = true;
      this.snapWaiting = true;
    } else setImmediate(this.snapStep);
  };

  /** store.scan callback: one SNAP frame per item or tombstone (must not mutate the store). */
  private readonly emit = (h: number): void => {
    const s = this.repl.store;
    const vlen = s.isTombstone(h) ? 0 : s.valueLength(h);
    const klen = s.keyLength(h);
    const n = recordFrameLength(klen, vlen);
    if (this.snapPos + n > this.snapBuf.length) {
      this.flushSnap();
      if (n > this.snapBuf.length) this.snapBuf = Buffer.allocUnsafe(n);
    }
    const ks = s.keyStart(h);
    const vs = s.valueStart(h);
    this.snapPos = writeRecord(
      this.snapBuf,
      this.snapPos,
      FrameType.Snap,
      s.isTombstone(h) ? RecOp.Del : RecOp.Set,
      s.verHi(h),
      s.verLo(h),
      s.flags(h),
      s.exptime(h),
      s.keyBuffer(h),
      ks,
      ks + klen,
      vlen > 0 ? s.valueBuffer(h) : null,
      vs,
      vs + vlen,
    );
    this.snapItems++;
  };

  private flushSnap(): void {
    if (this.snapPos === 0) return;
    // The socket keeps the buffer it was given: continue in a fresh one.
    this.ch.send(this.snapBuf.subarray(0, this.snapPos));
    this.snapBuf = Buffer.allocUnsafe(SNAP_CHUNK);
    this.snapPos = 0;
  }
}
