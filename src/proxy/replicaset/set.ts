/**
 * A replica set as one shard of a pool. The pool hashes the SET NAME (config key),
 * so keys never move when members fail over; inside the set, requests go to members by the
 * current SetView (view.ts), which only its controller (control.ts, injected by the process
 * that runs the proxy) replaces: in the primary process src/failover/'s member monitor for
 * memcached sets and ROLE tracking with builtin or Sentinel failover for Redis sets.
 *
 * It is a routing-table entry of its own kind (target.ts), not a server: the pool's data plane
 * calls send() on it as on a server, and it sends to plain BackendServers, one per member,
 * that carry the pool's connections, timeouts, TLS and handshake. Writes that find no write target (a failover in progress) are held here,
 * bounded in number and time, and sent when the view names a new one.
 */
import assert from "node:assert";
import type { ReplicaSetConfig } from "../../config/index.js";
import { BackendError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { ProxyPoolCounters } from "../../metrics/table.js";
import type { BackendConn } from "../backend.js";
import type { DedicatedRoute } from "../dedicated.js";
import type { ReplyClass, SetBehaviour } from "../driver.js";
import type { Request } from "../request.js";
import { BackendServer, type ServerPool } from "../server.js";
import type { ControlledSet, SetController, SetControllerFactory } from "./control.js";
import { SetEvents } from "./events.js";
import { FanOutWrite } from "./fanout.js";
import { SingleOp } from "./op.js";
import { ReadPicker } from "./pick.js";
import { MAX_MEMBERS } from "./policy.js";
import type { Parked, SetPort } from "./port.js";
import { initialView, type SetView, sameView } from "./view.js";

/** Bound on writes held while a set has no write target. */
const MAX_PARKED = 10000;

/**
 * A set's label in messages and reload matching: it lists its members and settings, so a
 * reload that changes any of them builds a new set.
 */
export function setLabel(cfg: ReplicaSetConfig): string {
  return `rs(${JSON.stringify({ ...cfg, key: undefined })})`;
}

/**
 * What a set needs of its pool (pool.ts ProxyPool): what its members' servers need, and the
 * pool's config, counters and table rebuild. Declared here so the set depends on this
 * contract, not on the pool that holds it.
 */
export interface SetPool extends ServerPool {
  readonly counters: ProxyPoolCounters;
  /** Builds and swaps a new routing table. */
  rebuild(): void;
}

/** What a set gets from the process that runs the proxy (pool.ts PoolDeps). */
export interface SetDeps {
  /** Builds the set's controller (control.ts): injected, the proxy decides nothing. */
  readonly setControllers: SetControllerFactory;
  readonly log: Logger;
}

export class ReplicaSet implements SetPort, ControlledSet, DedicatedRoute {
  /** A routing-table entry is a server or a replica set (target.ts); this is a set. */
  readonly kind = "set" as const;
  readonly name: string;
  readonly members: BackendServer[];
  /** The backend servers that carry this entry's connections: its members. */
  readonly backends: readonly BackendServer[];
  readonly picker: ReadPicker;
  readonly protocol: "memcache" | "redis";
  readonly readMissFailover: boolean;
  readonly behaviour: SetBehaviour;
  readonly replyClass: (buf: Buffer, start: number, end: number) => ReplyClass;
  readonly controller: SetController;
  view: SetView;
  /** Transitions as they happen (events.ts), for the admin plane's timeline. */
  readonly events = new SetEvents();
  /** ms a held write waits for a new write target before it fails. */
  readonly holdMs: number;
  private parked: { op: Parked; until: number }[] = [];
  private parkTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly pool: SetPool,
    readonly cfg: ReplicaSetConfig,
    /** For messages and reload matching (setLabel). */
    readonly label: string,
    readonly deps: SetDeps,
  ) {
    this.name = cfg.name;
    assert(cfg.members.length <= MAX_MEMBERS, `a replica set has at most ${MAX_MEMBERS} members`);
    this.protocol = pool.driver.name;
    this.members = cfg.members.map(
      (m) =>
        new BackendServer(
          pool,
          `${cfg.name}/${m.endpoint.host}:${m.endpoint.port}`,
          `${m.endpoint.host}:${m.endpoint.port}`,
          m.endpoint,
          pool.config.server_connections,
        ),
    );
    this.backends = this.members;
    this.picker = new ReadPicker(cfg.read, cfg.members.length);
    this.readMissFailover = cfg.read_miss_failover;
    this.behaviour = pool.driver.replicaSet;
    this.replyClass = pool.driver.replyClass;
    const master = cfg.members.findIndex((m) => m.role === "master");
    this.view = initialView(cfg.members, Math.max(master, 0));
    this.holdMs = cfg.down_after + 5000;
    this.controller = deps.setControllers(this, deps.log);
    // Started after the constructor: the pool swaps tables only once it holds this set.
    queueMicrotask(() => {
      if (!this.closedFlag) this.controller.start();
    });
  }

  private closedFlag = false;

  get poolName(): string {
    return this.pool.name;
  }

  get redisAuth(): string | undefined {
    return this.pool.config.redis_auth;
  }

  send(
    req: Request,
    clientId: number,
    channel: number,
    buf: Buffer,
    start: number,
    end: number,
    _keepForRetry: boolean,
  ): boolean {
    // The driver's flag, on forwards, split parts and broadcasts alike (driver.ts Plan).
    const read = req.readOnly;
    if (read || this.behaviour.singleWriter || (this.cfg.write === "one" && this.cfg.replicated))
      new SingleOp(this, req, clientId, channel, read).start(buf, start, end);
    else new FanOutWrite(this, req, clientId, channel, this.cfg.write).start(buf, start, end);
    return true;
  }

  /** Swaps the view (the control plane's only way to change routing) and the pool's table. */
  setView(v: SetView): void {
    if (this.closedFlag || sameView(this.view, v)) return;
    const before = this.view;
    this.view = v;
    this.deps.log.info(
      {
        pool: this.pool.name,
        set: this.name,
        reason: v.reason,
        write: v.writeTarget >= 0 ? this.members[v.writeTarget].label : null,
        was: before.writeTarget >= 0 ? this.members[before.writeTarget].label : null,
        members: v.members.map((m, i) => `${this.members[i].label}:${m.role}:${m.health}`),
      },
      "replica set view",
    );
    // A dedicated connection follows the write target: the demoted member's are closed, their
    // clients told why (a blocked BLPOP or a subscriber must not wait on a replica forever).
    const was = before.writeTarget;
    if (was >= 0 && was !== v.writeTarget)
      this.members[was].closeDedicated(
        `was the master of replica set ${this.name} and is no longer (${v.reason})`,
      );
    if (this.pool.servers.includes(this)) this.pool.rebuild();
    if (this.events.size > 0) {
      v.members.forEach((m, i) => {
        const was = before.members[i].health;
        if (m.health !== was)
          this.events.emit({
            type: "member",
            member: i,
            from: was,
            to: m.health,
            reason: v.reason,
          });
      });
    }
    if (v.writeTarget >= 0) this.resumeParked();
  }

  memberFailed(i: number, reason: string): void {
    this.controller.memberFailed(i, reason);
  }

  rediscover(reason: string): void {
    this.controller.rediscover(reason);
  }

  park(op: Parked): boolean {
    if (this.parked.length >= MAX_PARKED || this.closedFlag) return false;
    this.parked.push({ op, until: Date.now() + this.holdMs });
    if (this.parkTimer === undefined) {
      this.parkTimer = setInterval(() => this.expireParked(), 100);
      this.parkTimer.unref();
    }
    return true;
  }

  /** Sends held writes again (called on a new write target and after a rediscovery round). */
  resumeParked(): void {
    if (this.parked.length === 0) return;
    const held = this.parked;
    this.parked = [];
    for (const p of held) p.op.resume();
  }

  private expireParked(now = Date.now()): void {
    const keep: typeof this.parked = [];
    for (const p of this.parked) {
      if (p.until <= now)
        p.op.expire(
          new BackendError(
            "KC_BACKEND_UNAVAILABLE",
            this.name,
            `found no master within ${this.holdMs} ms`,
            {
              message: `keepcache: replica set ${this.name} found no master within ${this.holdMs} ms`,
            },
          ),
        );
      else keep.push(p);
    }
    this.parked = keep;
    if (keep.length === 0 && this.parkTimer !== undefined) {
      clearInterval(this.parkTimer);
      this.parkTimer = undefined;
    }
  }

  dedicatedTarget(): BackendServer | undefined {
    const w = this.view.writeTarget;
    return w >= 0 ? this.members[w] : undefined;
  }

  closeDedicated(reason: string): void {
    for (const m of this.members) m.closeDedicated(reason);
  }

  preconnect(): void {
    for (const m of this.members) m.preconnect();
  }

  forEachConn(fn: (c: BackendConn) => void): void {
    for (const m of this.members) m.forEachConn(fn);
  }

  retire(reason: string): void {
    this.closedFlag = true;
    this.controller.stop();
    this.expireParked(Number.POSITIVE_INFINITY);
    for (const m of this.members) m.retire(reason);
  }

  close(reason: string): void {
    this.closedFlag = true;
    this.controller.stop();
    this.expireParked(Number.POSITIVE_INFINITY);
    for (const m of this.members) m.close(reason);
  }
}
