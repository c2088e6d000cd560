/**
 * The field lists of `SENTINEL masters | master | replicas` in redis-sentinel's order and
 * names (sentinel.c addReplySentinelRedisInstance), filled from what keepcache knows about a
 * replica set: its view (who is master, who is up), the failover controller's last ROLE
 * round (replication link state, offsets, last answer) and the set's config. Values Sentinel
 * takes from INFO that keepcache does not track (runid) are empty strings.
 */
import { RedisSetController } from "../failover/controller.js";
import type { ReplicaSet } from "../proxy/replicaset/set.js";
import type { Value } from "./encode.js";
import { type Master, masterIndex, memberAddr } from "./masters.js";

/** Sentinel's default failover-timeout (sentinel.c SENTINEL_DEFAULT_FAILOVER_TIMEOUT). */
const FAILOVER_TIMEOUT = 180_000;

function lastOkAgo(set: ReplicaSet, i: number, now: number): number {
  const c = set.controller;
  return c instanceof RedisSetController ? Math.max(0, now - c.lastOk[i]) : 0;
}

/** The fields every instance starts with (sentinel.c addReplySentinelRedisInstance). */
function head(name: string, a: { ip: string; port: number }, flags: string, ago: string): Value[] {
  return [
    "name",
    name,
    "ip",
    a.ip,
    "port",
    String(a.port),
    "runid",
    "",
    "flags",
    flags,
    "link-pending-commands",
    "0",
    "link-refcount",
    "1",
    "last-ping-sent",
    "0",
    "last-ok-ping-reply",
    ago,
    "last-ping-reply",
    ago,
  ];
}

function down(set: ReplicaSet, i: number): boolean {
  const h = set.view.members[i]?.health;
  return h === "down" || h === "fenced";
}

export function masterFields(m: Master, now = Date.now()): Value[] {
  const { set } = m;
  const i = masterIndex(set);
  const a = memberAddr(set, i);
  const flags = ["master"];
  if (down(set, i)) flags.push("s_down", "o_down");
  if (set.view.writeTarget < 0) flags.push("failover_in_progress");
  const ago = String(lastOkAgo(set, i, now));
  return [
    ...head(m.name, a, flags.join(","), ago),
    ...(down(set, i) ? ["s-down-time", ago, "o-down-time", ago] : []),
    "down-after-milliseconds",
    String(set.cfg.down_after),
    "info-refresh",
    ago,
    "role-reported",
    "master",
    "role-reported-time",
    String(now - (set.controller instanceof RedisSetController ? set.controller.startedAt : now)),
    "config-epoch",
    String(set.controller.failovers),
    "num-slaves",
    String(replicaIndexes(set).length),
    "num-other-sentinels",
    "0",
    "quorum",
    "1",
    "failover-timeout",
    String(FAILOVER_TIMEOUT),
    "parallel-syncs",
    "1",
  ];
}

export function replicaIndexes(set: ReplicaSet): number[] {
  const m = masterIndex(set);
  return set.members.map((_, i) => i).filter((i) => i !== m);
}

export function replicaFields(set: ReplicaSet, i: number, now = Date.now()): Value[] {
  const a = memberAddr(set, i);
  const master = memberAddr(set, masterIndex(set));
  const c = set.controller instanceof RedisSetController ? set.controller : undefined;
  const role = c?.roles[i];
  const linkOk = role?.role === "replica" && role.state === "connected";
  const ago = String(lastOkAgo(set, i, now));
  const flags = down(set, i) ? "slave,s_down,disconnected" : "slave";
  return [
    ...head(`${a.ip}:${a.port}`, a, flags, ago),
    ...(down(set, i) ? ["s-down-time", ago] : []),
    "down-after-milliseconds",
    String(set.cfg.down_after),
    "info-refresh",
    ago,
    "role-reported",
    "slave",
    "role-reported-time",
    ago,
    "master-link-down-time",
    "0",
    "master-link-status",
    linkOk ? "ok" : "err",
    "master-host",
    role?.role === "replica" ? role.masterHost : master.ip,
    "master-port",
    String(role?.role === "replica" ? role.masterPort : master.port),
    "slave-priority",
    "100",
    "slave-repl-offset",
    String(role?.role === "replica" ? role.offset : 0),
    "replica-announced",
    "1",
  ];
}
