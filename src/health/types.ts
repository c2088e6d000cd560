/**
 * Shared vocabulary of the health checks: what a check is pointed at, what it reports, and the
 * configuration shape (mirrors the `check:` mapping of the native config).
 */
import { formatHostPort } from "../config/schema/common.js";

/** What a check probes: one backend address. `name` is used in details and notify scripts. */
export interface CheckTarget {
  host: string;
  port: number;
  name?: string;
}

/** The outcome of one check run. */
export interface CheckResult {
  ok: boolean;
  /** keepalived MISC_CHECK with misc_dynamic: the weight the script asked for (exit code - 2). */
  weight?: number;
  /** Human-readable reason: "connected", "status 503", "ERR 1045 Access denied", ... */
  detail: string;
  latencyMs: number;
}

/** A check function: never throws; an aborted signal means "timed out / stopped" and fails. */
export type CheckFn<O> = (
  target: CheckTarget,
  options: O,
  signal: AbortSignal,
) => Promise<CheckResult>;

export type CheckType = "tcp" | "http" | "https" | "mysql" | "redis" | "memcache" | "script";

/** The `check:` mapping (durations in ms). Type-specific keys are optional. */
export interface HealthCheckConfig {
  type: CheckType;
  interval: number;
  timeout: number;
  rise: number;
  fall: number;
  /** Probe this port instead of the target's (keepalived connect_port). */
  port?: number;
  /** http/https */
  path?: string;
  status?: number[];
  digest?: string;
  host?: string;
  /** mysql (as HAProxy `option mysql-check user <name>`) */
  user?: string;
  password?: string;
  /** redis: "ping" (default) or "role"; role: the role required to be up */
  command?: "ping" | "role";
  role?: "master" | "replica";
  /** script (keepalived MISC_CHECK) */
  script?: { command: string; dynamic?: boolean; user?: string };
}

export const DEFAULT_CHECK: HealthCheckConfig = {
  type: "tcp",
  interval: 2000,
  timeout: 1000,
  rise: 2,
  fall: 3,
};

export function targetLabel(t: CheckTarget): string {
  return t.name ?? formatHostPort(t.host, t.port);
}
