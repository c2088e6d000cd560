/**
 * Active health checks (keepalived's checkers, keepalived.conf(5) "real_server"): one shape for
 * TCP services, pool members and replica sets. Times are milliseconds; rise/fall are the
 * consecutive successes/failures needed to change state (haproxy's names for keepalived's
 * retry counters).
 */
import { z } from "zod";
import { ms, posInt } from "./common.js";

export const CHECK_TYPES = [
  "tcp",
  "http",
  "https",
  "mysql",
  "redis",
  "memcache",
  "script",
] as const;

/** MISC_CHECK: exit 0 up, 1 down, 2..255 up with weight = code - 2 when `dynamic`. */
export const scriptCheckSchema = z.strictObject({
  command: z.string().min(1),
  dynamic: z.boolean().default(false),
  user: z.string().default("nobody"),
});

const checkShape = {
  interval: ms.default(2000),
  timeout: ms.default(1000),
  rise: posInt.default(2),
  fall: posInt.default(3),
  /** http/https: request path, accepted status codes, md5 hex digest of the body, Host. */
  path: z.string().default("/"),
  status: z.array(z.int().min(100).max(599)).default([200]),
  digest: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, { error: "must be an md5 hex digest (32 hex digits)" })
    .optional(),
  host: z.string().optional(),
  /** Port override: probe another port than the service's (keepalived connect_port). */
  port: z.int().min(1).max(65535).optional(),
  script: scriptCheckSchema.optional(),
};

export const healthCheckSchema = z
  .strictObject({ type: z.enum(CHECK_TYPES).default("tcp"), ...checkShape })
  .refine((c) => c.type !== "script" || c.script !== undefined, {
    error: "type script needs script: { command: ... }",
    path: ["script"],
  });

/** A per-server override: every field optional, merged over the service's check. */
export const healthCheckOverrideSchema = z.strictObject({
  type: z.enum(CHECK_TYPES).optional(),
  interval: ms.optional(),
  timeout: ms.optional(),
  rise: posInt.optional(),
  fall: posInt.optional(),
  path: z.string().optional(),
  status: z.array(z.int().min(100).max(599)).optional(),
  digest: checkShape.digest,
  host: z.string().optional(),
  port: checkShape.port,
  script: scriptCheckSchema.optional(),
});

/** Pool member probing: defaults tuned for caches (fast, 2 to fall). */
export const poolHealthSchema = z.strictObject({
  interval: ms.default(1000),
  timeout: ms.default(500),
  rise: posInt.default(2),
  fall: posInt.default(2),
});

export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
export type HealthCheckOverride = z.output<typeof healthCheckOverrideSchema>;
export type PoolHealthConfig = z.output<typeof poolHealthSchema>;
