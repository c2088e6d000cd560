/**
 * The control plane of one Redis replica set: it tracks every member's role with
 * ROLE every check_interval, keeps the set's view (proxy/replicaset/view.ts) naming exactly one
 * write target, and changes it in three ways:
 * - observing: the members say who the master is (another proxy or a Sentinel promoted one);
 * - builtin failover (builtin.ts) when this proxy may decide (leader.ts, injected);
 * - following Sentinels (sentinel.ts) with `failover: sentinel`.
 *
 * Fencing (no split brain): when a master is replaced, the old one becomes "fenced": it gets no
 * request until ROLE shows it is a replica of the new master (this proxy sends it REPLICAOF
 * when it decides). While the master does not answer, writes are held by the set (view write
 * target -1) rather than sent to a server that may be gone or about to be demoted.
 */
import type { Logger } from "../log.js";
import type { ControlledSet, SetController } from "../proxy/replicaset/control.js";
import { type MemberView, nextView } from "../proxy/replicaset/view.js";
import { BuiltinFailover, type FailoverHost } from "./builtin.js";
import { parseRole, type RoleReply } from "./info.js";
import type { Leadership } from "./leader.js";
import { runNotify } from "./notify.js";
import { RedisLink } from "./redis-link.js";
import { SentinelFollower, type SentinelHost } from "./sentinel.js";

export interface FailoverRecord {
  time: number;
  from: string;
  to: string;
  role: "leader" | "observer";
  reason: string;
}

export class RedisSetController implements SetController, FailoverHost, SentinelHost {
  failovers = 0;
  readonly history: FailoverRecord[] = [];
  readonly links: RedisLink[];
  /** The member this proxy believes is master (the view's write target unless held). */
  master: number;
  readonly roles: (RoleReply | undefined)[];
  readonly lastOk: number[];
  readonly fenced = new Set<number>();
  /** Writes held: the master failed or a manual failover is draining it. */
  holdWrites = false;
  /** Bumped by every switch, so a ROLE round that straddles one is recognised as stale. */
  private epoch = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopped = false;
  private readonly builtin: BuiltinFailover;
  private readonly sentinel: SentinelFollower | undefined;
  readonly startedAt = Date.now();

  constructor(
    readonly set: ControlledSet,
    readonly log: Logger,
    /** Whether this proxy may decide a builtin failover now (leader.ts). */
    readonly leadership: Leadership,
  ) {
    const pw = set.redisAuth;
    this.links = set.members.map(
      (m) =>
        new RedisLink(
          m.endpoint.kind === "tcp" ? m.endpoint.host : "",
          m.endpoint.kind === "tcp" ? m.endpoint.port : 0,
          pw !== undefined ? { password: pw } : {},
        ),
    );
    this.master = set.view.writeTarget;
    this.roles = set.members.map(() => undefined);
    this.lastOk = set.members.map(() => Date.now());
    this.builtin = new BuiltinFailover(this);
    this.sentinel =
      set.cfg.failover === "sentinel" ? new SentinelFollower(this, set.cfg) : undefined;
  }

  get cfg() {
    return this.set.cfg;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.cfg.check_interval);
    this.timer.unref();
    this.sentinel?.start();
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.sentinel?.stop();
    for (const l of this.links) l.close();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  memberFailed(i: number, reason: string): void {
    if (i === this.master && !this.holdWrites) {
      // Hold writes at once; the next ROLE round says whether the master is really gone.
      this.holdWrites = true;
      this.log.warn(
        { set: this.set.name, member: this.set.members[i].label, reason },
        "master failed a request",
      );
      this.set.events.emit({ type: "failover", phase: "start", member: i, reason });
      this.publish("master failed a request");
      void this.tick();
    }
  }

  rediscover(_reason: string): void {
    void this.tick();
  }

  failover(to: string | undefined): Promise<string> {
    if (this.cfg.failover === "sentinel")
      return this.sentinel?.failover() ?? Promise.reject(new Error("no sentinels"));
    return this.builtin.manual(to);
  }

  indexOf(host: string, port: number): number {
    return this.set.members.findIndex(
      (m) => m.endpoint.kind === "tcp" && m.endpoint.host === host && m.endpoint.port === port,
    );
  }

  /** One ROLE round over every member, then decisions. Single-flight. */
  async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const now = Date.now();
      const epoch = this.epoch;
      const replies = await Promise.allSettled(this.links.map((l) => l.call("ROLE")));
      // Roles read before a switch (or during a manual failover, which runs its own steps)
      // describe the old topology: acting on them could switch straight back to the demoted
      // master. Drop the round; the next one sees the new roles.
      if (epoch !== this.epoch || this.builtin.draining) return;
      replies.forEach((r, i) => {
        const role = r.status === "fulfilled" ? parseRole(r.value) : undefined;
        this.roles[i] = role;
        if (role !== undefined) this.lastOk[i] = now;
      });
      if (this.stopped) return;
      this.observe();
      await this.builtin.step(now);
      this.publish("ROLE round");
      this.set.resumeParked();
    } finally {
      this.ticking = false;
    }
  }

  /** Follows what the members report (another decider, a Sentinel, a restarted master). */
  private observe(): void {
    const m = this.master;
    const r = m >= 0 ? this.roles[m] : undefined;
    if (r?.role === "master") {
      if (!this.builtin.draining && this.holdWrites)
        this.releaseWrites(m, "the master answers again");
      return;
    }
    if (r === undefined && m >= 0 && !this.holdWrites) {
      this.holdWrites = true;
      this.set.events.emit({
        type: "failover",
        phase: "start",
        member: m,
        reason: "the master does not answer ROLE",
      });
    }
    // Who do the reachable members say is master? The reported master with most followers.
    const votes = new Map<number, number>();
    this.roles.forEach((x, i) => {
      if (x?.role === "master") votes.set(i, (votes.get(i) ?? 0) + 0.5);
      if (x?.role === "replica") {
        const j = this.indexOf(x.masterHost, x.masterPort);
        if (j >= 0 && this.roles[j]?.role === "master") votes.set(j, (votes.get(j) ?? 0) + 1);
      }
    });
    let best = -1;
    for (const [j, n] of votes)
      if (j !== m && !this.fenced.has(j) && (best < 0 || n > (votes.get(best) ?? 0))) best = j;
    if (best < 0) return;
    // Our master answers as a replica, or is gone while another member has followers: follow.
    const followers = votes.get(best) ?? 0;
    if (r?.role === "replica" || followers >= 1 || this.set.members.length === 1) {
      this.switchTo(
        best,
        "observer",
        r?.role === "replica"
          ? "the master reports it is a replica"
          : "another member is master with replicas",
      );
    }
  }

  /** Writes held for master `m` flow to it again (no switch happened). */
  releaseWrites(m: number, reason: string): void {
    this.holdWrites = false;
    this.set.events.emit({ type: "failover", phase: "end", member: m, reason });
  }

  /** Makes member `to` the write target; the old master is fenced until it is a replica. */
  switchTo(to: number, role: "leader" | "observer", reason: string): void {
    const from = this.master;
    if (to === from) return;
    this.epoch++;
    if (from >= 0) this.fenced.add(from);
    this.fenced.delete(to);
    this.master = to;
    this.holdWrites = false;
    this.failovers++;
    this.set.events.emit({ type: "switch", from, to, role, reason });
    const label = (i: number) => (i >= 0 ? this.set.members[i].label : "none");
    this.history.push({ time: Date.now(), from: label(from), to: label(to), role, reason });
    if (this.history.length > 50) this.history.shift();
    this.log.warn(
      { set: this.set.name, from: label(from), to: label(to), role, reason },
      "replica set failover",
    );
    const ep = (i: number) => {
      const e = i >= 0 ? this.set.members[i].endpoint : undefined;
      return e?.kind === "tcp" ? { host: e.host, port: e.port } : { host: "", port: 0 };
    };
    runNotify(
      this.cfg.notify,
      {
        masterName: this.cfg.master_name ?? this.set.name,
        role,
        state: "failover",
        from: ep(from),
        to: ep(to),
      },
      this.log,
    );
    this.publish(reason);
  }

  /** Builds the view from what is known and swaps it when it changed. */
  publish(reason: string): void {
    const v = this.set.view;
    const now = Date.now();
    const members: Record<number, Partial<MemberView>> = {};
    const masterEp = this.set.members[this.master]?.endpoint;
    this.set.members.forEach((_, i) => {
      const r = this.roles[i];
      if (
        this.fenced.has(i) &&
        r?.role === "replica" &&
        masterEp?.kind === "tcp" &&
        r.masterHost === masterEp.host &&
        r.masterPort === masterEp.port
      )
        this.fenced.delete(i);
      const alive =
        r !== undefined ||
        (now - this.lastOk[i] < this.cfg.check_interval * 3 && now - this.startedAt < 2000);
      const health = this.fenced.has(i) ? "fenced" : alive ? "up" : "down";
      members[i] = {
        health,
        role:
          i === this.master
            ? "master"
            : r?.role === "replica"
              ? "replica"
              : v.members[i].role === "master"
                ? "unknown"
                : v.members[i].role,
      };
    });
    const wt =
      this.holdWrites || this.master < 0 || members[this.master]?.health !== "up"
        ? -1
        : this.master;
    if (this.master >= 0) members[this.master] = { ...members[this.master], role: "master" };
    this.set.setView(nextView(v, reason, { writeTarget: wt, members }));
  }
}
