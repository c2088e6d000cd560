/**
 * VRRP instances in keepalived's vocabulary (keepalived.conf(5) "VRRP instance",
 * "VRRP script", "VRRP synchronization group"). Times keep keepalived's units (seconds,
 * fractional allowed) because users copy them from keepalived.conf.
 */
import { z } from "zod";
import { posInt, text, uint } from "./common.js";

const seconds = z.number({ error: "must be a number of seconds" }).min(0);

/** vrrp_script: weight in -253..253 (keepalived clamps priority to 1..254). */
export const vrrpScriptSchema = z.strictObject({
  script: z.string().min(1),
  interval: seconds.default(1),
  timeout: seconds.optional(),
  weight: z.int().min(-253).max(253).default(0),
  rise: posInt.default(1),
  fall: posInt.default(1),
  user: z.string().optional(),
});
export type VrrpScriptConfig = z.output<typeof vrrpScriptSchema>;

const weighted = z.union([
  z.string().transform((name) => ({ name, weight: undefined as number | undefined })),
  z.strictObject({ name: z.string(), weight: z.int().min(-253).max(253).optional() }),
]);

export const AUTH_TYPES = ["PASS", "AH", "HMAC"] as const;

export const vrrpInstanceSchema = z
  .strictObject({
    interface: z.string().min(1),
    state: z.enum(["MASTER", "BACKUP"]).default("BACKUP"),
    virtual_router_id: z.int().min(1).max(255),
    /** 255 = address owner. */
    priority: z.int().min(1).max(255).default(100),
    /** seconds; v3 carries centiseconds so 0.01 steps are meaningful. */
    advert_int: z.number().min(0.01).max(255).default(1),
    version: z.union([z.literal(2), z.literal(3)]).default(2),
    nopreempt: z.boolean().default(false),
    preempt_delay: seconds.max(1000).default(0),
    virtual_ipaddress: z.array(z.string()).min(1, { error: "needs at least one address" }),
    virtual_ipaddress_excluded: z.array(z.string()).default([]),
    unicast_src_ip: z.string().optional(),
    unicast_peer: z.array(z.string()).default([]),
    authentication: z
      .strictObject({
        auth_type: z.enum(AUTH_TYPES),
        /** keepalived truncates auth_pass to 8 bytes; we reject longer to avoid surprise. */
        auth_pass: text.pipe(z.string().max(8)).optional(),
        secret: text.optional(),
      })
      .optional(),
    track_script: z.array(weighted).default([]),
    track_interface: z.array(weighted).default([]),
    track_file: z
      .array(z.strictObject({ path: z.string(), weight: z.int().min(-254).max(254).default(0) }))
      .default([]),
    notify_master: z.string().optional(),
    notify_backup: z.string().optional(),
    notify_fault: z.string().optional(),
    notify_stop: z.string().optional(),
    notify: z.string().optional(),
    garp_master_delay: seconds.default(5),
    garp_master_repeat: posInt.default(5),
    garp_master_refresh: seconds.default(0),
    /** RFC 3768 7.1: accept packets with TTL != 255 only when unicast peers are set. */
    check_unicast_src: z.boolean().default(false),
    v3_checksum_as_v2: z.boolean().default(false),
  })
  .refine((i) => !(i.nopreempt && i.state === "MASTER"), {
    error: "nopreempt needs state BACKUP (keepalived ignores it otherwise)",
    path: ["nopreempt"],
  });

export type VrrpInstanceConfig = z.output<typeof vrrpInstanceSchema> & { name: string };

export const syncGroupSchema = z.strictObject({
  group: z.array(z.string()).min(1),
  notify_master: z.string().optional(),
  notify_backup: z.string().optional(),
  notify_fault: z.string().optional(),
  notify_stop: z.string().optional(),
  notify: z.string().optional(),
});
export type VrrpSyncGroupConfig = z.output<typeof syncGroupSchema> & { name: string };

export const vrrpSchema = z.strictObject({
  router_id: text.optional(),
  scripts: z.record(z.string(), vrrpScriptSchema).default({}),
  instances: z.record(z.string(), vrrpInstanceSchema).default({}),
  sync_groups: z.record(z.string(), syncGroupSchema).default({}),
  /** keepalived enable_script_security: refuse scripts writable by non-root. */
  enable_script_security: z.boolean().default(false),
  /** Times a priority-0 advert is (re)sent on shutdown. */
  shutdown_adverts: uint.default(1),
});

export type VrrpConfig = {
  router_id: string | undefined;
  scripts: Record<string, VrrpScriptConfig>;
  instances: VrrpInstanceConfig[];
  sync_groups: VrrpSyncGroupConfig[];
  enable_script_security: boolean;
  shutdown_adverts: number;
};
