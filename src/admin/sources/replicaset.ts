/**
 * Replica-set transitions (proxy/replicaset/events.ts) on the dashboard timeline and
 * /api/v1/events, as they happen: member down / back / warming / warm / fenced, failover
 * start and end, the switch of the write target (promotion or followed change, e.g. a
 * Sentinel's +switch-master), and repointing. Sets are found in the proxy's pools and
 * re-found after a reload (a reload builds new sets), by `sync()` and a light poll.
 *
 * Subjects are "pool/set" (and "pool/set/member" for member events); members are shown by
 * `memberName` when given (`keepcache up` names its processes), else by host:port.
 */
import type { ProxyService } from "../../proxy/proxy.js";
import type { SetEvent } from "../../proxy/replicaset/events.js";
import type { ReplicaSet } from "../../proxy/replicaset/set.js";
import type { AdminEventInput, EventRing } from "../events.js";

export interface ReplicaSetEventsOptions {
  /** Display name of a member (by its "host:port" label); undefined keeps the label. */
  memberName?(pool: string, set: string, label: string): string | undefined;
  /** How often the pools are looked at for new sets (ms, default 250). */
  watchMs?: number;
}

export interface ReplicaSetEventsAttachment {
  sync(): void;
  detach(): void;
}

/** Reasons that say how the view was rebuilt, not why a member changed. */
const GENERIC = new Set(["ROLE round", "start"]);

/**
 * The cause in a view reason: the memcached monitor writes "member <label> down: <cause>";
 * the member is already named by the message.
 */
function cause(reason: string): string {
  return GENERIC.has(reason) ? "" : reason.replace(/^member \S+ [^:]*: /, "");
}

/** The timeline entry for one set event (exported for unit tests). */
export function formatSetEvent(
  pool: string,
  set: string,
  e: SetEvent,
  name: (i: number) => string,
  labels: readonly string[] = [],
): AdminEventInput {
  // Reasons name members by host:port; show the display names instead.
  const named = (text: string) =>
    labels.reduce((t, l, i) => (l === name(i) ? t : t.split(l).join(name(i))), text);
  const ev = formatRaw(pool, set, e, name);
  return { ...ev, message: named(ev.message) };
}

function formatRaw(
  pool: string,
  set: string,
  e: SetEvent,
  name: (i: number) => string,
): AdminEventInput {
  const subject = `${pool}/${set}`;
  const data: Record<string, unknown> = { pool, shard: set, type: e.type };
  switch (e.type) {
    case "member": {
      const m = name(e.member);
      const base = {
        subject: `${subject}/${m}`,
        data: { ...data, server: m, from: e.from, to: e.to },
      };
      const why = cause(e.reason);
      if (e.to === "down")
        return {
          ...base,
          kind: "health",
          level: "warn",
          message: why === "" ? `${m} down` : `${m} down: ${why}`,
        };
      if (e.to === "fenced")
        return {
          ...base,
          kind: "health",
          level: "warn",
          message: `${m} fenced: a demoted master gets no request until it follows the new master`,
        };
      if (e.to === "warming")
        return {
          ...base,
          kind: "replication",
          message: `${m} is back; warming before it serves reads`,
        };
      const was = e.from === "warming" ? "warm" : e.from === "fenced" ? "unfenced" : "up again";
      return {
        ...base,
        kind: "restore",
        message: why === "" ? `${m} ${was}, serves reads` : `${m} ${was}, serves reads (${why})`,
      };
    }
    case "failover": {
      const m = e.member >= 0 ? name(e.member) : "none";
      if (e.phase === "start")
        return {
          kind: "failover",
          subject,
          level: "warn",
          message: `failover check of master ${m}: writes held (${e.reason})`,
          data: { ...data, phase: e.phase, server: m },
        };
      return {
        kind: "failover",
        subject,
        message: `master ${m} kept: ${e.reason}`,
        data: { ...data, phase: e.phase, server: m },
      };
    }
    case "switch": {
      const from = e.from >= 0 ? name(e.from) : "none";
      if (e.to < 0)
        return {
          kind: "failover",
          subject,
          level: "error",
          message: `${from} -> none: no live member takes writes (${e.reason})`,
          data: { ...data, from, to: null, role: e.role },
        };
      const to = name(e.to);
      const how = e.role === "leader" ? "" : " (followed)";
      return {
        kind: "failover",
        subject,
        level: "warn",
        message: `${from} -> ${to}${how}: ${e.reason}`,
        data: { ...data, from, to, role: e.role },
      };
    }
    case "repoint": {
      const m = name(e.member);
      const master = name(e.master);
      return {
        kind: "replication",
        subject: `${subject}/${m}`,
        message: `${m} told to replicate from ${master} (REPLICAOF)`,
        data: { ...data, server: m, master },
      };
    }
  }
}

export function attachReplicaSetEvents(
  proxy: Pick<ProxyService, "pools">,
  ring: EventRing,
  opts: ReplicaSetEventsOptions = {},
): ReplicaSetEventsAttachment {
  const subscribed = new Map<ReplicaSet, () => void>();
  const sync = () => {
    const live = new Set<ReplicaSet>();
    for (const pool of proxy.pools()) {
      for (const s of pool.servers) {
        if (s.kind !== "set") continue;
        live.add(s);
        if (subscribed.has(s)) continue;
        const name = (i: number) => {
          const label = s.members[i]?.label ?? String(i);
          return opts.memberName?.(pool.name, s.name, label) ?? label;
        };
        subscribed.set(
          s,
          s.events.subscribe((e) =>
            ring.push(
              formatSetEvent(
                pool.name,
                s.name,
                e,
                name,
                s.members.map((m) => m.label),
              ),
            ),
          ),
        );
      }
    }
    for (const [s, undo] of subscribed) {
      if (!live.has(s)) {
        undo();
        subscribed.delete(s);
      }
    }
  };
  sync();
  const timer = setInterval(sync, opts.watchMs ?? 250);
  timer.unref();
  return {
    sync,
    detach() {
      clearInterval(timer);
      for (const undo of subscribed.values()) undo();
      subscribed.clear();
    },
  };
}
