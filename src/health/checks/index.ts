/**
 * Dispatch from a `check:` config to the check function that implements it, once (runCheck)
 * or for one target over time (TargetChecker, which keeps a connection where the protocol
 * allows it).
 */
import type { CheckResult, CheckTarget, HealthCheckConfig } from "../types.js";
import { httpCheck } from "./http.js";
import { CheckLink } from "./link.js";
import { memcacheCheck } from "./memcache.js";
import { mysqlCheck } from "./mysql.js";
import { redisCheck, redisLink } from "./redis.js";
import { fail } from "./result.js";
import { scriptCheck } from "./script.js";
import { tcpCheck } from "./tcp.js";

export { httpCheck, memcacheCheck, mysqlCheck, redisCheck, scriptCheck, tcpCheck };

/**
 * The checks of one target. memcache and redis checks run on one kept connection (link.ts),
 * as Sentinel's links do; tcp, http/https, mysql and script checks keep keepalived's and
 * HAProxy's meaning, a new connection (or process) per check, since what they test is that
 * the server accepts, answers a fresh request, or greets.
 */
export class TargetChecker {
  private readonly link: CheckLink | undefined;

  constructor(
    private readonly target: CheckTarget,
    private readonly cfg: HealthCheckConfig,
  ) {
    const at = cfg.port !== undefined ? { ...target, port: cfg.port } : target;
    if (cfg.type === "memcache") this.link = new CheckLink(at);
    else if (cfg.type === "redis") this.link = redisLink(at, redisOptions(cfg));
  }

  run(signal: AbortSignal): Promise<CheckResult> {
    return runCheck(this.target, this.cfg, signal, this.link);
  }

  close(): void {
    this.link?.close();
  }
}

function redisOptions(cfg: HealthCheckConfig) {
  return { command: cfg.command, role: cfg.role, password: cfg.password, username: cfg.user };
}

export function runCheck(
  target: CheckTarget,
  cfg: HealthCheckConfig,
  signal: AbortSignal,
  link?: CheckLink,
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
      return redisCheck(target, { ...redisOptions(cfg), link }, signal);
    case "memcache":
      return memcacheCheck(target, { link }, signal);
    case "script":
      if (!cfg.script) return Promise.resolve(fail(() => 0, "script check without script"));
      return scriptCheck(target, cfg.script, signal);
  }
}
