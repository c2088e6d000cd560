/**
 * Node-to-node replication: an N-way, master-master full mesh. Every node accepts writes,
 * logs each local mutation's resulting state in its backlog, and serves that backlog (or a
 * full snapshot) to every peer that dials it; it dials every peer in turn to pull theirs.
 * Records received from a peer are applied but never forwarded: in a full mesh each writer
 * reaches every node directly. Convergence comes from last-writer-wins on the version (HLC +
 * node id), which is also the CAS, so a `gets` on one node and a `cas` on another agree.
 *
 * This class owns the listener, the links, the backlog, the write capture (commit) and the
 * sync-mode bookkeeping (syncAcked). See feeder.ts and pull-link.ts for the two link ends.
 */
import net from "node:net";
import type { Logger } from "../../log.js";
import { counters, type ReplicationCounters, replicationMetrics } from "../../metrics/table.js";
import { NO_ITEM, type StoreOptions } from "../../store/types.js";
import { listenOn } from "../../util/listen.js";
import type { HybridLogicalClock, Version } from "../clock.js";
import { newRunId } from "./auth.js";
import { BacklogRing } from "./backlog.js";
import type { LocalIdentity } from "./channel.js";
import { Feeder, type FeederHost } from "./feeder.js";
import {
  FrameType,
  type Hello,
  RecOp,
  type Record,
  recordFrameLength,
  writeRecord,
} from "./frame.js";
import type { AckSource } from "./held-replies.js";
import { type PeerAddress, peerKey, type ReplicationOptions } from "./options.js";
import { PullLink, type PullLinkHost } from "./pull-link.js";
import { ApplyResult, ReplicatedStore } from "./replicated-store.js";

/** What replication needs from the node around it. */
export interface ReplicationHost {
  readonly hlc: HybridLogicalClock;
  now(): number;
  /** The current command changed data (sessions then call endWrite). */
  markWrote(): void;
}

/** Everything known about one peer, from both of its links. */
export class Peer {
  nodeId = -1;
  feeder: Feeder | undefined;
  /** Our backlog seq the peer has applied (from its ACKs). */
  ackedSeq = 0;
  constructor(
    readonly key: string,
    readonly link: PullLink,
    readonly dynamic: boolean,
  ) {}
}

export class Replication implements AckSource, FeederHost, PullLinkHost {
  readonly counters: ReplicationCounters = counters(replicationMetrics);
  readonly store: ReplicatedStore;
  readonly backlog: BacklogRing;
  readonly identity: LocalIdentity;
  readonly maxFrameBytes: number;
  readonly peers = new Map<string, Peer>();
  private readonly server: net.Server;
  private readonly feeders = new Set<Feeder>();
  private readonly listeners = new Set<() => void>();
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private readonly ver: Version = { hi: 0, lo: 0 };
  private pumpScheduled = false;
  private commitScheduled = false;
  private closed = false;
  /** Highest seq logged since the last endWrite (0 = none). */
  private pendingSeq = 0;
  /** Highest backlog seq that opts.syncReplicas peers have applied. */
  syncAcked = 0;

  constructor(
    readonly opts: ReplicationOptions,
    storeOpts: StoreOptions,
    private readonly host: ReplicationHost,
    readonly log: Logger,
  ) {
    this.store = new ReplicatedStore(storeOpts, {
      nextVersion: () => host.hlc.tick(this.ver),
      onDirty: () => {
        host.markWrote();
        this.scheduleCommit();
      },
      onFlush: (at) => this.logFlush(at),
      tombstoneTtl: opts.tombstoneTtl,
    });
    // A record is at most one item; the ring must hold a few of the largest.
    this.maxFrameBytes = storeOpts.maxItemSize + 1024;
    this.backlog = new BacklogRing(Math.max(opts.backlogBytes, 4 * this.maxFrameBytes));
    this.identity = {
      nodeId: opts.nodeId,
      runId: newRunId(),
      replPort: opts.port,
      secret: opts.secret,
    };
    this.server = net.createServer({ noDelay: true }, (s) => this.accept(s));
    this.server.on("error", (err) => log.error({ err }, "replication listener error"));
  }

  get syncTimeoutMs(): number {
    return this.opts.syncTimeoutMs;
  }

  now(): number {
    return this.host.now();
  }

  async listen(host: string): Promise<number> {
    await listenOn(this.server, { port: this.opts.port, host, backlog: 128 }, "replication port");
    const a = this.server.address();
    const port = a && typeof a === "object" ? a.port : this.opts.port;
    this.identity.replPort = port;
    for (const p of this.opts.peers) this.addPeer(p, false);
    return port;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.peers.values()) p.link.stop();
    for (const f of this.feeders) f.ch.close("stopping");
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private addPeer(addr: PeerAddress, dynamic: boolean): Peer {
    const key = peerKey(addr);
    let p = this.peers.get(key);
    if (p) return p;
    p = new Peer(key, new PullLink(this, addr), dynamic);
    this.peers.set(key, p);
    if (!this.closed) p.link.start();
    return p;
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const f = new Feeder(this, socket);
    this.feeders.add(f);
  }

  // ---- links -------------------------------------------------------------------------------

  /** An inbound link authenticated: find its peer (or adopt it and dial back, as repcached -x). */
  attachFeeder(f: Feeder, h: Hello, remoteAddress: string): void {
    if (h.runId.equals(this.identity.runId)) {
      f.ch.close("self");
      return;
    }
    let peer: Peer | undefined;
    for (const p of this.peers.values()) if (p.nodeId === h.nodeId) peer = p;
    peer ??= this.peers.get(peerKey({ host: remoteAddress, port: h.replPort }));
    peer ??= this.addPeer({ host: remoteAddress.replace(/^::ffff:/, ""), port: h.replPort }, true);
    if (peer.nodeId !== h.nodeId) peer.ackedSeq = 0;
    peer.nodeId = h.nodeId;
    if (peer.feeder && peer.feeder !== f) peer.feeder.ch.close("replaced by a new link");
    peer.feeder = f;
  }

  peerIdentified(link: PullLink, h: Hello): void {
    for (const p of this.peers.values()) {
      if (p.link === link) {
        if (p.nodeId !== h.nodeId) p.ackedSeq = 0;
        p.nodeId = h.nodeId;
      }
    }
  }

  feederClosed(f: Feeder, reason: string, authFailed: boolean): void {
    this.feeders.delete(f);
    for (const p of this.peers.values()) if (p.feeder === f) p.feeder = undefined;
    if (authFailed) {
      this.counters.repl_auth_failures++;
      this.log.warn(
        { remote: f.ch.socket.remoteAddress },
        "replication peer refused: authentication failed",
      );
    } else if (f.hello) {
      this.log.debug({ peer: f.hello.nodeId, reason }, "serving link closed");
    }
  }

  onAck(f: Feeder, seq: number): void {
    for (const p of this.peers.values()) {
      if (p.feeder === f && seq > p.ackedSeq) p.ackedSeq = Math.min(seq, this.backlog.headSeq);
    }
    const n = this.opts.syncReplicas;
    if (n === 0) return;
    const acks: number[] = [];
    for (const p of this.peers.values()) acks.push(p.ackedSeq);
    if (acks.length < n) return;
    acks.sort((a, b) => b - a);
    const v = acks[n - 1];
    if (v > this.syncAcked) {
      this.syncAcked = v;
      for (const fn of this.listeners) fn();
    }
  }

  onAcked(fn: () => void): void {
    this.listeners.add(fn);
  }

  offAcked(fn: () => void): void {
    this.listeners.delete(fn);
  }

  countTimeout(): void {
    this.counters.repl_sync_timeouts++;
  }

  /** Applies one record from a peer and advances our clock past its version. */
  apply(r: Record): void {
    this.host.hlc.observe(r.verHi, r.verLo);
    const res = this.store.applyRecord(r, this.host.now());
    if (res === ApplyResult.Applied) this.counters.repl_mutations_applied++;
    else if (res === ApplyResult.Stale) this.counters.repl_mutations_stale++;
    else this.counters.repl_apply_failures++;
  }

  // ---- write capture -----------------------------------------------------------------------

  /**
   * Logs the resulting state of every key the last command(s) changed; returns the highest seq
   * logged since the previous call (0 if none). Sessions call this through NodeContext.endWrite.
   */
  commit(): number {
    const store = this.store;
    if (store.dirtyCount > 0) store.drainDirty(this.logKey);
    const seq = this.pendingSeq;
    this.pendingSeq = 0;
    return seq;
  }

  private readonly logKey = (keys: Buffer, ks: number, ke: number): void => {
    const s = this.store;
    const now = this.host.now();
    const h = s.findAny(keys, ks, ke);
    if (h === NO_ITEM) {
      // Gone without a tombstone (stored already expired, or no memory for one): leave one now.
      const v = this.host.hlc.tick(this.ver);
      s.delete(keys, ks, ke, now, { verHi: v.hi, verLo: v.lo, ttl: this.opts.tombstoneTtl });
      this.append(RecOp.Del, v.hi, v.lo, 0, 0, keys, ks, ke, null, 0, 0);
      return;
    }
    if (s.isTombstone(h)) {
      this.append(RecOp.Del, s.verHi(h), s.verLo(h), 0, 0, keys, ks, ke, null, 0, 0);
      return;
    }
    const vs = s.valueStart(h);
    const vlen = s.valueLength(h);
    this.append(
      RecOp.Set,
      s.verHi(h),
      s.verLo(h),
      s.flags(h),
      s.exptime(h),
      keys,
      ks,
      ke,
      s.valueBuffer(h),
      vs,
      vs + vlen,
    );
  };

  private logFlush(at: number): void {
    const v = this.host.hlc.tick(this.ver);
    if (at === 0) this.store.noteFlush(v);
    this.host.markWrote();
    this.scheduleCommit();
    this.append(RecOp.Flush, v.hi, v.lo, 0, at, this.scratch, 0, 0, null, 0, 0);
  }

  private append(
    op: RecOp,
    verHi: number,
    verLo: number,
    flags: number,
    exptime: number,
    key: Uint8Array,
    ks: number,
    ke: number,
    val: Buffer | null,
    vs: number,
    ve: number,
  ): void {
    const n = recordFrameLength(ke - ks, val === null ? 0 : ve - vs);
    if (n > this.scratch.length) this.scratch = Buffer.allocUnsafe(n * 2);
    const end = writeRecord(
      this.scratch,
      0,
      FrameType.Rec,
      op,
      verHi,
      verLo,
      flags,
      exptime,
      key,
      ks,
      ke,
      val,
      vs,
      ve,
    );
    this.pendingSeq = this.backlog.append(this.scratch, 0, end, Date.now());
    this.counters.repl_mutations_logged++;
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(this.pumpAll);
    }
  }

  /** Socket batching: one pass per tick sends everything logged since the last. */
  private readonly pumpAll = (): void => {
    this.pumpScheduled = false;
    for (const f of this.feeders) f.pump();
  };

  /** A mutation made outside a session's command loop still gets logged this tick. */
  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      this.commit();
    });
  }
}
