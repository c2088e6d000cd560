/**
 * The dialling end of a replication link: this node pulls one peer's writes (see feeder.ts for
 * the frame sequence). It reconnects forever with capped exponential backoff (repcached never
 * reconnects; we always do), and remembers the peer's run id and the offset applied from it, so
 * a reconnect to the same incarnation asks for only the missing records (PSYNC).
 */

import net from "node:net";
import { formatHostPort } from "../../config/schema/common.js";
import { KeepcacheError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { ReplicationCounters } from "../../metrics/table.js";
import type { LocalIdentity } from "./channel.js";
import { Channel } from "./channel.js";
import {
  decodeSync,
  decodeU64Frame,
  encodeSync,
  encodeU64Frame,
  type Frame,
  FrameType,
  type Hello,
  Record,
  RUN_ID_BYTES,
  readRecord,
} from "./frame.js";
import type { PeerAddress, ReplicationOptions } from "./options.js";

export type LinkState =
  | "connecting"
  | "handshake"
  | "sync_wait"
  | "full_sync"
  | "online"
  | "down"
  | "auth_failed"
  | "self";

export type SyncKind = "none" | "full" | "partial";

const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 2000;
const NO_RUN = Buffer.alloc(RUN_ID_BYTES);

/** What a pull link uses of the node's replication (replication.ts implements it). */
export interface PullLinkHost {
  readonly identity: LocalIdentity;
  readonly maxFrameBytes: number;
  readonly opts: ReplicationOptions;
  readonly counters: ReplicationCounters;
  readonly log: Logger;
  apply(r: Record): void;
  peerIdentified(link: PullLink, h: Hello): void;
}

export class PullLink {
  state: LinkState = "connecting";
  lastSync: SyncKind = "none";
  /** Run id of the peer incarnation we applied from, and how far (its backlog seq). */
  private runId: Buffer | null = null;
  applied = 0;
  private acked = 0;
  rttMs = -1;
  hello: Hello | undefined;
  lastSyncAt = 0;
  fullSyncItems = 0;
  private ch: Channel | undefined;
  private backoff = BACKOFF_MIN_MS;
  private retry: NodeJS.Timeout | undefined;
  private ping: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly rec = new Record();
  private fullStarted = 0;

  constructor(
    private readonly repl: PullLinkHost,
    readonly address: PeerAddress,
  ) {}

  start(): void {
    if (this.stopped || this.ch) return;
    this.state = "connecting";
    const socket = net.connect({ host: this.address.host, port: this.address.port });
    this.ch = new Channel(
      socket,
      this.repl.identity,
      this.repl.maxFrameBytes,
      this.repl.opts.peerTimeoutMs,
      {
        onReady: (h) => this.onReady(h),
        onFrame: (buf, f) => this.onFrame(buf, f),
        onBatchEnd: () => this.ack(),
        onClose: (why) => this.onClose(why.message, why.code === "KC_REPLICATION_AUTH"),
      },
    );
    socket.once("connect", () => {
      if (this.state === "connecting") this.state = "handshake";
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.ch?.close("stopping");
  }

  private onReady(h: Hello): void {
    const r = this.repl;
    this.hello = h;
    if (h.runId.equals(r.identity.runId)) {
      // Our own listener (a peer list that names this node): nothing to pull, ever.
      this.state = "self";
      this.stopped = true;
      this.ch?.close("self");
      return;
    }
    if (h.nodeId === r.identity.nodeId) {
      r.log.error(
        { peer: this.key },
        "peer has our node id; versions could collide: pass distinct --node-id",
      );
      this.ch?.close("duplicate node id");
      return;
    }
    r.peerIdentified(this, h);
    this.backoff = BACKOFF_MIN_MS;
    this.state = "sync_wait";
    this.ch?.send(
      encodeSync(FrameType.Psync, { runId: this.runId ?? NO_RUN, offset: this.applied }),
    );
    const every = Math.max(20, Math.floor(r.opts.peerTimeoutMs / 3));
    this.ping = setInterval(() => this.ch?.send(encodeU64Frame(FrameType.Ping, Date.now())), every);
    this.ping.unref();
  }

  get key(): string {
    return formatHostPort(this.address.host, this.address.port);
  }

  private onFrame(buf: Buffer, f: Frame): void {
    const r = this.repl;
    switch (f.type) {
      case FrameType.Rec:
      case FrameType.Snap: {
        if (this.state !== "online" && this.state !== "full_sync")
          throw new KeepcacheError("KC_REPLICATION", "record before sync");
        if (!readRecord(buf, f, this.rec))
          throw new KeepcacheError("KC_REPLICATION", "malformed record");
        r.apply(this.rec);
        if (f.type === FrameType.Rec) this.applied++;
        else this.fullSyncItems++;
        return;
      }
      case FrameType.Continue: {
        const p = decodeSync(buf, f);
        if (this.runId === null || !p.runId.equals(this.runId) || p.offset !== this.applied) {
          throw new KeepcacheError("KC_REPLICATION", "CONTINUE does not match our PSYNC");
        }
        this.state = "online";
        this.lastSync = "partial";
        this.lastSyncAt = Date.now();
        r.counters.repl_partial_syncs++;
        r.log.info({ peer: this.key, offset: p.offset }, "partial sync from peer");
        return;
      }
      case FrameType.FullSync: {
        const p = decodeSync(buf, f);
        this.runId = p.runId;
        this.applied = p.offset;
        this.acked = 0;
        this.state = "full_sync";
        this.lastSync = "full";
        this.fullSyncItems = 0;
        this.fullStarted = Date.now();
        r.counters.repl_full_syncs++;
        r.log.info({ peer: this.key }, "full sync from peer started");
        return;
      }
      case FrameType.SnapEnd:
        if (this.state !== "full_sync")
          throw new KeepcacheError("KC_REPLICATION", "SNAP_END outside a full sync");
        this.state = "online";
        this.lastSyncAt = Date.now();
        r.log.info(
          { peer: this.key, items: this.fullSyncItems, ms: this.lastSyncAt - this.fullStarted },
          "full sync from peer done",
        );
        return;
      case FrameType.Pong:
        this.rttMs = Date.now() - decodeU64Frame(buf, f);
        return;
      default:
        throw new KeepcacheError("KC_REPLICATION", `unexpected frame ${f.type} on a pulling link`);
    }
  }

  /**
   * ACKs what was applied. Not during a full sync: an ACK there would claim snapshot items not
   * yet received, and sync mode counts ACKs as durability.
   */
  private ack(): void {
    if (this.state === "online" && this.applied > this.acked) {
      this.acked = this.applied;
      this.ch?.send(encodeU64Frame(FrameType.Ack, this.applied));
    }
  }

  private onClose(reason: string, authFailed: boolean): void {
    const r = this.repl;
    this.ch = undefined;
    if (this.ping) clearInterval(this.ping);
    this.ping = undefined;
    if (this.state === "self") return;
    if (authFailed) {
      r.counters.repl_auth_failures++;
      r.log.warn({ peer: this.key }, "replication peer refused: authentication failed");
      this.state = "auth_failed";
    } else {
      if (this.state === "online" || this.state === "full_sync") {
        r.log.warn({ peer: this.key, reason }, "replication link lost");
      }
      this.state = "down";
    }
    if (this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.start();
    }, this.backoff);
    this.retry.unref();
    this.backoff = Math.min(BACKOFF_MAX_MS, this.backoff * 2);
  }
}
