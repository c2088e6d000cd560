/**
 * TCP balancing services: keepalived's virtual_server/real_server vocabulary
 * (keepalived.conf(5)) with haproxy-style queueing. Times are milliseconds except
 * persistence_timeout, which keeps keepalived's seconds.
 */
import { z } from "zod";
import { hostPortSchema, listenSchema, ms, posInt, uint } from "./common.js";
import { healthCheckOverrideSchema, healthCheckSchema } from "./health.js";

export const BALANCE_ALGORITHMS = ["rr", "wrr", "lc", "wlc", "sh", "first", "leastconn"] as const;
export const PROXY_PROTOCOLS = ["none", "v1", "v2"] as const;

export const tcpServerSchema = z.strictObject({
  address: hostPortSchema,
  /** keepalived: weight 0 = no new connections (drained). */
  weight: uint.default(1),
  backup: z.boolean().default(false),
  maxconn: uint.optional(),
  check: healthCheckOverrideSchema.optional(),
  notify_up: z.string().optional(),
  notify_down: z.string().optional(),
});
export type TcpServerConfig = z.output<typeof tcpServerSchema>;

export const tcpServiceSchema = z.strictObject({
  listen: listenSchema,
  balance: z.enum(BALANCE_ALGORITHMS).default("wrr"),
  /** seconds of client-IP affinity (keepalived persistence_timeout); 0 = none. */
  persistence_timeout: uint.default(0),
  /** keepalived inhibit_on_failure: keep a failed server with weight 0 instead of removing. */
  inhibit_on_failure: z.boolean().default(false),
  sorry_server: hostPortSchema.optional(),
  /** per server; 0 = unlimited; excess clients queue. */
  maxconn: uint.default(0),
  queue_timeout: ms.default(5000),
  slowstart: ms.default(0),
  proxy_protocol: z.enum(PROXY_PROTOCOLS).default("none"),
  connect_timeout: ms.default(3000),
  check: healthCheckSchema.optional(),
  notify_up: z.string().optional(),
  notify_down: z.string().optional(),
  backlog: posInt.default(512),
  servers: z.array(tcpServerSchema).min(1, { error: "service has no servers" }),
});

export type TcpServiceConfig = z.output<typeof tcpServiceSchema> & { name: string };
export const tcpSchema = z.record(z.string(), tcpServiceSchema);
