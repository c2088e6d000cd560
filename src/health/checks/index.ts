/** Dispatch from a `check:` config to the check function that implements it. */
import type { CheckResult, CheckTarget, HealthCheckConfig } from "../types.js";
import { httpCheck } from "./http.js";
import { memcacheCheck } from "./memcache.js";
import { mysqlCheck } from "./mysql.js";
import { redisCheck } from "./redis.js";
import { fail } from "./result.js";
import { scriptCheck } from "./script.js";
import { tcpCheck } from "./tcp.js";

export { httpCheck, memcacheCheck, mysqlCheck, redisCheck, scriptCheck, tcpCheck };

export function runCheck(
  target: CheckTarget,
  cfg: HealthCheckConfig,
  signal: AbortSignal,
): Promise<CheckResult> {
  if (cfg.port !== undefined && cfg.port !== target.port) target = { ...target, port: cfg.port };
  switch (cfg.type) {
    case "tcp":
      return tcpCheck(target, {}, signal);
    case "http":
    case "https":
      return httpCheck(
        target,
        {
          tls: cfg.type === "https",
          path: cfg.path,
          host: cfg.host,
          status: cfg.status,
          digest: cfg.digest,
        },
        signal,
      );
    case "mysql":
      return mysqlCheck(target, { user: cfg.user, password: cfg.password }, signal);
    case "redis":
      return redisCheck(
        target,
        { command: cfg.command, role: cfg.role, password: cfg.password, username: cfg.user },
        signal,
      );
    case "memcache":
      return memcacheCheck(target, {}, signal);
    case "script":
      if (!cfg.script) return Promise.resolve(fail(() => 0, "script check without script"));
      return scriptCheck(target, cfg.script, signal);
  }
}
