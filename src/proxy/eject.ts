/**
 * twemproxy's passive ejection (nc_server.c server_failure, server_ok): with auto_eject_hosts,
 * `server_failure_limit` consecutive failures take a server out of the routing table for
 * `server_retry_timeout` ms, after which it is put back without a check, as twemproxy does
 * (keepcache's active health checks, pool-health.ts, add the check twemproxy lacks). Both
 * directions are a table rebuild and swap.
 */
import type { Logger } from "../log.js";
import type { ProxyPool } from "./pool.js";
import type { BackendServer } from "./server.js";

/** Out of the table already: passively ejected, or down by its health check. */
function out(s: BackendServer): boolean {
  return s.ejectedUntil !== 0 || s.healthDown;
}

/**
 * The active health checker's verdict. With auto_eject_hosts a server going down counts as an
 * ejection (twemproxy's stats), once per outage: not again if the passive counter already took
 * it out, and countFailure does not count one the checker took out.
 */
export function setHealthDown(pool: ProxyPool, s: BackendServer, down: boolean): void {
  if (down && !out(s) && pool.config.auto_eject_hosts) markEjected(pool, s);
  s.healthDown = down;
}

/** Counts one failure of `s`; ejects it at the limit and schedules its return. */
export function countFailure(pool: ProxyPool, log: Logger, s: BackendServer, reason: string): void {
  const cfg = pool.config;
  if (!cfg.auto_eject_hosts || out(s)) return;
  s.failures++;
  if (s.failures < cfg.server_failure_limit) return;
  log.warn(
    { pool: pool.name, server: s.label, reason, retryMs: cfg.server_retry_timeout },
    "ejecting server",
  );
  markEjected(pool, s);
  s.ejectedUntil = Date.now() + cfg.server_retry_timeout;
  s.ejectTimer = setTimeout(() => {
    s.ejectTimer = undefined;
    s.ejectedUntil = 0;
    log.info({ pool: pool.name, server: s.label }, "server back in the pool");
    pool.rebuild();
  }, cfg.server_retry_timeout);
  s.ejectTimer.unref();
  pool.rebuild();
}

/** The stats side of an ejection (twemproxy server_ejected_at in µs, pool server_ejects). */
function markEjected(pool: ProxyPool, s: BackendServer): void {
  // Its clients holding dedicated connections (a BLPOP, a subscriber) are told, not left waiting:
  // new requests for its keys, and the designated pub/sub server, move elsewhere.
  s.closeDedicated("was ejected from the pool");
  s.failures = 0;
  s.counters.server_ejected_at = Date.now() * 1000;
  pool.counters.server_ejects++;
}
