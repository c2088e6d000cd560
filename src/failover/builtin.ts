/**
 * Builtin failover of a Redis replica set (`failover: builtin`), Sentinel's procedure
 * done by the proxy (sentinel.c):
 * 1. Detect: the master has not answered ROLE for `down_after` ms (data-path failures trigger
 *    an immediate ROLE round, so detection starts at the first failed request).
 * 2. Confirm with witnesses: a strict majority of the set's replicas report
 *    master_link_status:down in INFO replication (the replicas, not just this proxy, lost it).
 * 3. Promote the best replica (elect.ts: replica-priority, offset, run id) with
 *    REPLICAOF NO ONE, swap the view, repoint the others with REPLICAOF host port.
 * 4. When the old master answers again (as a master), make it a replica of the new one; it
 *    stays fenced until ROLE shows it following the new master.
 * Only a proxy that may decide (leader.ts) runs steps 2-4; the others observe (controller.ts).
 */
import type { ReplicaSetConfig } from "../config/index.js";
import { formatHostPort } from "../config/schema/common.js";
import type { Logger } from "../log.js";
import type { ControlledSet } from "../proxy/replicaset/control.js";
import { queueGauges } from "../proxy/stats.js";
import { electReplica, witnessesConfirm } from "./elect.js";
import { parseInfo, type ReplicaFacts, type RoleReply, replicaFacts } from "./info.js";
import type { Leadership } from "./leader.js";
import type { RedisLink } from "./redis-link.js";

/** Minimum ms between two REPLICAOF commands to one member. */
const REPOINT_EVERY = 1000;
/** A manual failover waits at most this long for replicas to catch up with the master. */
const CATCH_UP_MS = 2000;

/**
 * What builtin failover needs of the set's controller (controller.ts RedisSetController, which
 * runs it): declared here so the procedure depends on this contract, not on the controller.
 */
export interface FailoverHost {
  readonly set: ControlledSet;
  readonly cfg: ReplicaSetConfig;
  readonly log: Logger;
  /** Whether this proxy may decide a failover now (leader.ts). */
  readonly leadership: Leadership;
  /** One link per member, by member index. */
  readonly links: readonly RedisLink[];
  /** Each member's last ROLE reply (undefined: it did not answer the last round). */
  readonly roles: (RoleReply | undefined)[];
  /** When each member last answered ROLE (ms). */
  readonly lastOk: number[];
  /** Members kept out of elections until ROLE shows them following the new master. */
  readonly fenced: ReadonlySet<number>;
  /** The member this proxy believes is master. */
  readonly master: number;
  /** Writes held: the master failed or a manual failover is draining it. */
  holdWrites: boolean;
  readonly isStopped: boolean;
  /** Makes member `to` the write target. */
  switchTo(to: number, role: "leader" | "observer", reason: string): void;
  /** Ends a hold of writes on master `m`. */
  releaseWrites(m: number, reason: string): void;
  /** Tells the other processes of the view (worker messages). */
  publish(reason: string): void;
}

export class BuiltinFailover {
  draining = false;
  private inFlight = false;
  private lastRefusal = "";
  private readonly repointedAt = new Map<number, number>();

  constructor(private readonly c: FailoverHost) {}

  private endpoint(i: number): { host: string; port: number } {
    const e = this.c.set.members[i].endpoint;
    return e.kind === "tcp" ? { host: e.host, port: e.port } : { host: "", port: 0 };
  }

  async step(now: number): Promise<void> {
    const c = this.c;
    if (c.cfg.failover !== "builtin" || this.inFlight) return;
    if (!c.leadership.mayDecide(c.cfg.failover_vrrp_instance)) return;
    const m = c.master;
    if (m < 0) return;
    if (c.roles[m]?.role === "master") {
      this.repoint(now);
      return;
    }
    if (c.roles[m] !== undefined || now - c.lastOk[m] < c.cfg.down_after) return;
    this.inFlight = true;
    try {
      await this.promote(undefined, false);
    } finally {
      this.inFlight = false;
    }
  }

  /** Members that answer but do not follow the confirmed master get REPLICAOF (throttled). */
  private repoint(now: number): void {
    const c = this.c;
    const { host, port } = this.endpoint(c.master);
    c.roles.forEach((r, i) => {
      if (i === c.master || r === undefined) return;
      const follows = r.role === "replica" && r.masterHost === host && r.masterPort === port;
      if (follows) return;
      if (now - (this.repointedAt.get(i) ?? 0) < REPOINT_EVERY) return;
      this.repointedAt.set(i, now);
      c.log.warn(
        { set: c.set.name, member: c.set.members[i].label, master: formatHostPort(host, port) },
        "repointing member to the master",
      );
      c.links[i].call("REPLICAOF", host, String(port)).catch(() => {});
      c.set.events.emit({ type: "repoint", member: i, master: c.master });
    });
  }

  private async facts(replicas: number[]): Promise<ReplicaFacts[]> {
    const c = this.c;
    const infos = await Promise.allSettled(
      replicas.map((i) => c.links[i].call("INFO", "replication", "server")),
    );
    const out: ReplicaFacts[] = [];
    infos.forEach((r, k) => {
      if (r.status === "fulfilled") out.push(replicaFacts(replicas[k], parseInfo(String(r.value))));
    });
    return out;
  }

  /** Steps 2-3. Returns a one-line outcome. */
  private async promote(to: number | undefined, manual: boolean): Promise<string> {
    const c = this.c;
    const m = c.master;
    const replicas = c.set.members.map((_, i) => i).filter((i) => i !== m && !c.fenced.has(i));
    const facts = await this.facts(replicas);
    const down = facts.filter((f) => f.linkDown).length;
    if (!manual && !witnessesConfirm(replicas.length, down)) {
      c.log.warn(
        { set: c.set.name, replicas: replicas.length, reportingDown: down },
        "master unreachable from the proxy, but the replicas do not confirm; not failing over",
      );
      const reason = `not failing over: ${down} of ${replicas.length} replicas report the master link down`;
      // Refused again every ROLE round while the master stays silent: report each new verdict once.
      if (reason !== this.lastRefusal)
        c.set.events.emit({ type: "failover", phase: "end", member: m, reason });
      this.lastRefusal = reason;
      return "not confirmed by the replicas";
    }
    const chosen = to !== undefined ? facts.find((f) => f.index === to) : electReplica(facts);
    if (chosen === undefined) return "no replica can be promoted";
    await c.links[chosen.index].call("REPLICAOF", "NO", "ONE");
    this.lastRefusal = "";
    if (c.isStopped) return "stopped";
    c.switchTo(
      chosen.index,
      "leader",
      manual
        ? "manual failover"
        : `master silent for ${c.cfg.down_after} ms; ${down} of ${replicas.length} replicas confirm`,
    );
    const { host, port } = this.endpoint(chosen.index);
    const now = Date.now();
    c.set.members.forEach((_, i) => {
      if (i === chosen.index || c.roles[i] === undefined) return;
      this.repointedAt.set(i, now);
      c.links[i].call("REPLICAOF", host, String(port)).catch(() => {});
      c.set.events.emit({ type: "repoint", member: i, master: chosen.index });
    });
    return `promoted ${c.set.members[chosen.index].label} (offset ${chosen.offset})`;
  }

  /** Admin-requested failover while the master is alive: drain, catch up, promote. */
  async manual(toLabel: string | undefined): Promise<string> {
    const c = this.c;
    if (this.inFlight) throw new Error(`a failover of ${c.set.name} is already in progress`);
    const m = c.master;
    let to: number | undefined;
    if (toLabel !== undefined) {
      to = c.set.members.findIndex((x) => x.label === toLabel || x.name === toLabel);
      if (to < 0) throw new Error(`replica set ${c.set.name} has no member ${toLabel}`);
      if (to === m) throw new Error(`${toLabel} is already the master of ${c.set.name}`);
    }
    this.inFlight = true;
    this.draining = true;
    c.holdWrites = true;
    c.set.events.emit({
      type: "failover",
      phase: "start",
      member: m,
      reason: "manual failover: holding writes while the replicas catch up",
    });
    c.publish("manual failover: holding writes");
    try {
      // Writes already on their way to the master must be answered first: an acknowledgement
      // that arrives after the switch comes from a demoted server and is refused as unknown.
      const drainUntil = Date.now() + CATCH_UP_MS;
      while (m >= 0 && queueGauges(c.set.members[m]).out_queue > 0 && Date.now() < drainUntil) {
        await new Promise((r) => setTimeout(r, 2));
      }
      // Held writes cannot reach the master now; let the replicas apply what it has.
      const role = m >= 0 ? await c.links[m].call("ROLE").catch(() => undefined) : undefined;
      const target = Array.isArray(role) ? Number(role[1]) : 0;
      const deadline = Date.now() + CATCH_UP_MS;
      const wanted =
        to !== undefined ? [to] : c.set.members.map((_, i) => i).filter((i) => i !== m);
      while (target > 0 && Date.now() < deadline) {
        const f = await this.facts(wanted);
        if (f.some((x) => x.offset >= target)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      return await this.promote(to, true);
    } finally {
      this.draining = false;
      this.inFlight = false;
      if (c.master === m) {
        c.releaseWrites(m, "manual failover ended without a switch");
        c.publish("manual failover ended");
      }
    }
  }
}
