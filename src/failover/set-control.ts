/**
 * The set controllers of the primary process, as the proxy's factory (proxy/replicaset/
 * control.ts): memcached sets get the member monitor, Redis sets ROLE tracking with builtin or
 * Sentinel failover, which decides only while `leadership` says so.
 */
import type { SetControllerFactory } from "../proxy/replicaset/control.js";
import { RedisSetController } from "./controller.js";
import type { Leadership } from "./leader.js";
import { MemcacheSetMonitor } from "./memcache-monitor.js";

export function setControllers(leadership: Leadership): SetControllerFactory {
  return (set, log) =>
    set.protocol === "redis"
      ? new RedisSetController(set, log, leadership)
      : new MemcacheSetMonitor(set, log);
}
