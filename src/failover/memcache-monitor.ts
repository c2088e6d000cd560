/**
 * The control plane of a memcached replica set: member health (an active `version` probe
 * every check_interval, plus the data path's failures, which take a member out at once),
 * the primary (the configured master, else the first live member), and warming a member that
 * returns (memcache-warm.ts) before it serves reads. A warming member already takes writes.
 */
import { memcacheCheck } from "../health/checks/index.js";
import { CheckLink } from "../health/checks/link.js";
import type { Logger } from "../log.js";
import type { ControlledSet, SetController } from "../proxy/replicaset/control.js";
import { type MemberHealth, type MemberView, nextView } from "../proxy/replicaset/view.js";
import { copyKeys, waitNodeInSync } from "./memcache-warm.js";

/** Consecutive failed probes that take an up member out (passive failures act at once). */
const FALL = 2;

export class MemcacheSetMonitor implements SetController {
  failovers = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly fails: number[];
  private readonly busy: boolean[];
  private readonly ctl = new AbortController();
  /** One kept probe connection per member (a probe every check_interval would churn ports). */
  private readonly links: (CheckLink | undefined)[];

  constructor(
    private readonly set: ControlledSet,
    private readonly log: Logger,
  ) {
    this.fails = set.members.map(() => 0);
    this.busy = set.members.map(() => false);
    this.links = set.members.map((m) =>
      m.endpoint.kind === "tcp"
        ? new CheckLink({ host: m.endpoint.host, port: m.endpoint.port, name: m.label })
        : undefined,
    );
  }

  start(): void {
    const every = Math.max(100, this.set.cfg.check_interval);
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.ctl.abort();
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const l of this.links) l?.close();
  }

  memberFailed(i: number, reason: string): void {
    if (this.set.view.members[i].health !== "up" && this.set.view.members[i].health !== "warming")
      return;
    this.log.warn({ set: this.set.name, member: this.set.members[i].label, reason }, "member down");
    this.mark(i, "down", `member ${this.set.members[i].label} down: ${reason}`);
  }

  rediscover(): void {}

  /** The operator's choice of primary (manual failover); it replaces the configured master. */
  private preferred = -1;

  /**
   * Manual failover (admin API): makes `to` (or the next up member) the primary. Only for
   * `replicated` sets with `write: one`, the only memcached sets with a single write target.
   */
  async failover(to: string | undefined): Promise<string> {
    const set = this.set;
    if (!(set.cfg.replicated && set.cfg.write === "one"))
      throw new Error(`replica set ${set.name} writes to every member; it has no primary to move`);
    const v = set.view;
    const from = v.writeTarget;
    const idx =
      to === undefined
        ? v.members.findIndex((m, j) => j !== from && m.health === "up")
        : set.members.findIndex((m) => m.label === to || m.name === to);
    if (idx < 0) throw new Error(to === undefined ? "no other member is up" : `no member ${to}`);
    if (idx === from) throw new Error(`${set.members[idx].label} is already the primary`);
    if (v.members[idx].health !== "up")
      throw new Error(`${set.members[idx].label} is ${v.members[idx].health}`);
    this.preferred = idx;
    this.mark(idx, "up", "manual failover");
    return `primary ${from >= 0 ? set.members[from].label : "none"} -> ${set.members[idx].label}`;
  }

  private mark(i: number, health: MemberHealth, reason: string): void {
    const v = this.set.view;
    const healthOf = (j: number) => (j === i ? health : v.members[j].health);
    // The primary: the configured master when up; else the current primary while it stays up
    // (replicating keepcache nodes are equals: moving back to a returning member only adds a
    // switch); else the first up member in order.
    const cfgMaster =
      this.preferred >= 0
        ? this.preferred
        : this.set.cfg.members.findIndex((m) => m.role === "master");
    let primary = cfgMaster >= 0 && healthOf(cfgMaster) === "up" ? cfgMaster : -1;
    if (primary < 0 && v.writeTarget >= 0 && healthOf(v.writeTarget) === "up")
      primary = v.writeTarget;
    for (let j = 0; primary < 0 && j < v.members.length; j++) if (healthOf(j) === "up") primary = j;
    const members: Record<number, Partial<MemberView>> = { [i]: { health } };
    // The dashboard shows the primary as master; a former primary becomes a replica.
    v.members.forEach((m, j) => {
      const role = j === primary ? "master" : m.role === "master" ? "replica" : m.role;
      if (role !== m.role) members[j] = { ...members[j], role };
    });
    const from = v.writeTarget;
    if (primary !== from && from >= 0) this.failovers++;
    this.set.setView(nextView(v, reason, { writeTarget: primary, members }));
    if (primary !== from)
      this.set.events.emit({ type: "switch", from, to: primary, role: "leader", reason });
  }

  private tick(): void {
    const set = this.set;
    set.members.forEach((m, i) => {
      if (this.busy[i] || m.endpoint.kind !== "tcp") return;
      this.busy[i] = true;
      const { host, port } = m.endpoint;
      const link = this.links[i];
      memcacheCheck({ host, port, name: m.label }, { link }, AbortSignal.timeout(500))
        .then((r) => this.onProbe(i, r.ok, r.detail))
        .finally(() => {
          if (set.view.members[i].health !== "warming") this.busy[i] = false;
        });
    });
  }

  private onProbe(i: number, ok: boolean, detail: string): void {
    if (this.stopped) return;
    const h = this.set.view.members[i].health;
    if (!ok) {
      if (h === "up" && ++this.fails[i] >= FALL) this.memberFailed(i, detail);
      return;
    }
    this.fails[i] = 0;
    if (h === "down") void this.warm(i);
  }

  /** The member answers again: warm it, then let it serve reads. */
  private async warm(i: number): Promise<void> {
    const set = this.set;
    const m = set.members[i];
    this.busy[i] = true;
    this.mark(i, "warming", `member ${m.label} back, warming`);
    const deadline = Date.now() + set.cfg.warm_timeout;
    const to = m.endpoint.kind === "tcp" ? m.endpoint : undefined;
    let detail = "";
    try {
      if (to === undefined) detail = "not a TCP member";
      else if (set.cfg.replicated) {
        const inSync = await waitNodeInSync(to, deadline);
        detail = inSync ? "replication online" : "replication not online by warm_timeout";
      } else {
        const src = set.view.members.findIndex((x, j) => j !== i && x.health === "up");
        const from = src >= 0 ? set.members[src].endpoint : undefined;
        if (from === undefined || from.kind !== "tcp") detail = "no live member to copy from";
        else {
          // A refused or broken copy (crawler BUSY, a connection lost) is tried again until
          // warm_timeout; after that the member serves anyway (bounded time, logged).
          for (;;) {
            try {
              const r = await copyKeys(from, to, { deadline });
              detail = `copied ${r.copied} of ${r.keys} keys from ${set.members[src].label}${r.complete ? "" : " (stopped at warm_timeout)"}`;
              break;
            } catch (err) {
              detail = `warming failed: ${(err as Error).message}`;
              if (Date.now() + 100 >= deadline || this.stopped) break;
              await new Promise((r) => setTimeout(r, 100));
            }
          }
        }
      }
    } catch (err) {
      detail = `warming failed: ${(err as Error).message}`;
    } finally {
      this.busy[i] = false;
    }
    if (this.stopped || set.view.members[i].health !== "warming") return;
    this.log.info({ set: set.name, member: m.label, detail }, "member warmed");
    this.mark(i, "up", `member ${m.label} warm: ${detail}`);
  }
}
