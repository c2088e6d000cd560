/**
 * The whole file. Reserved top-level keys are keepcache sections; ANY other top-level key is a
 * twemproxy pool, so a nutcracker.yml loads as-is (nc_conf.c: every root key is a pool name).
 * Cross-entry rules live here: those twemproxy enforces in conf_validate_server and
 * conf_post_validate (duplicate server names, duplicate listen addresses) plus our own
 * references (track_script names, sync group members).
 */
import { z } from "zod";
import { type AdminConfig, adminSchema, type LogConfig, logSchema } from "./admin.js";
import { formatEndpoint } from "./common.js";
import { type PoolConfig, poolSchema } from "./pool.js";
import { type SentinelConfig, sentinelSchema } from "./sentinel.js";
import { type TcpServiceConfig, tcpSchema } from "./tcp.js";
import { type VrrpConfig, vrrpSchema } from "./vrrp.js";

export const RESERVED_KEYS = [
  "pools",
  "tcp",
  "vrrp",
  "admin",
  "log",
  "node",
  "workers",
  "sentinel",
] as const;

export interface Config {
  pools: PoolConfig[];
  tcp: TcpServiceConfig[];
  vrrp: VrrpConfig | undefined;
  admin: AdminConfig | undefined;
  log: LogConfig;
  /** The Sentinel-compatible endpoint (src/sentinel/), when configured. */
  sentinel: SentinelConfig | undefined;
  /** The embedded cache node's section, validated by its own module. */
  node: Record<string, unknown> | undefined;
  /**
   * Data-plane processes for the proxy pools and the TCP balancer: a number (1 = the main
   * process only) or "auto" (one per core). The main process serves too and keeps the control
   * plane (config, health checks, ejection, replica-set failover, reload) and sends routing
   * tables/snapshots to the workers; they share each TCP listener (unix-socket and TLS pools
   * stay in the main process). A change on SIGHUP restarts the workers.
   */
  workers: number | "auto";
}

type Issue = z.core.$RefinementCtx["issues"] extends (infer T)[] ? T : never;
type Ctx = { issues: Issue[] };

function checkPools(pools: [string[], PoolConfig][], ctx: Ctx, value: unknown): void {
  const listens = new Map<string, string>();
  for (const [path, pool] of pools) {
    // conf_validate_server: names (or host[:port] when unnamed) must be unique in a pool.
    const seen = new Map<string, number>();
    pool.servers.forEach((s, i) => {
      const prev = seen.get(s.key);
      if (prev !== undefined) {
        ctx.issues.push({
          code: "custom",
          input: value,
          path: [...path, "servers", i],
          message: `pool '${pool.name}' has servers with same name '${s.key}' (also servers[${prev}])`,
        });
      } else seen.set(s.key, i);
    });
    const l = formatEndpoint(pool.listen);
    const other = listens.get(l);
    if (other !== undefined)
      ctx.issues.push({
        code: "custom",
        input: value,
        path: [...path, "listen"],
        message: `pools '${other}' and '${pool.name}' have the same listen address '${l}'`,
      });
    else listens.set(l, pool.name);
  }
}

function checkVrrp(v: VrrpConfig, ctx: Ctx, value: unknown): void {
  const ids = new Map<string, string>();
  for (const inst of v.instances) {
    inst.track_script.forEach((t, i) => {
      if (!(t.name in v.scripts))
        ctx.issues.push({
          code: "custom",
          input: value,
          path: ["vrrp", "instances", inst.name, "track_script", i],
          message: `unknown script '${t.name}' (defined: ${Object.keys(v.scripts).join(", ") || "none"})`,
        });
    });
    const id = `${inst.interface}/${inst.version}/${inst.virtual_router_id}`;
    const dup = ids.get(id);
    if (dup !== undefined)
      ctx.issues.push({
        code: "custom",
        input: value,
        path: ["vrrp", "instances", inst.name, "virtual_router_id"],
        message: `virtual_router_id ${inst.virtual_router_id} on ${inst.interface} is also used by ${dup}`,
      });
    else ids.set(id, inst.name);
  }
  const names = new Set(v.instances.map((i) => i.name));
  for (const g of v.sync_groups)
    g.group.forEach((n, i) => {
      if (!names.has(n))
        ctx.issues.push({
          code: "custom",
          input: value,
          path: ["vrrp", "sync_groups", g.name, "group", i],
          message: `unknown instance '${n}'`,
        });
    });
}

export const configSchema = z
  .object({
    pools: z.record(z.string(), poolSchema).optional(),
    tcp: tcpSchema.optional(),
    vrrp: vrrpSchema.optional(),
    admin: adminSchema.optional(),
    log: logSchema.optional(),
    sentinel: sentinelSchema.optional(),
    node: z.record(z.string(), z.unknown()).optional(),
    workers: z
      .unknown()
      // The accepted input, for the JSON Schema (a transform has none of its own).
      .meta({ anyOf: [{ const: "auto" }, { type: "integer", minimum: 1, maximum: 64 }] })
      .transform((v, ctx): number | "auto" => {
        if (v === "auto" || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 64))
          return v as number | "auto";
        ctx.issues.push({
          code: "custom",
          input: v,
          message: `must be "auto" or a whole number from 1 to 64 (got ${JSON.stringify(v)})`,
        });
        return z.NEVER;
      })
      .optional(),
  })
  .catchall(poolSchema)
  .transform((raw, ctx): Config => {
    const pools: [string[], PoolConfig][] = [];
    const reserved = new Set<string>(RESERVED_KEYS);
    for (const [name, p] of Object.entries(raw)) {
      if (reserved.has(name)) continue;
      pools.push([[name], { name, ...(p as z.output<typeof poolSchema>) }]);
    }
    for (const [name, p] of Object.entries(raw.pools ?? {})) {
      if (pools.some(([, q]) => q.name === name))
        ctx.issues.push({
          code: "custom",
          input: raw,
          path: ["pools", name],
          message: `pool '${name}' is defined twice (at the top level and under pools:)`,
        });
      pools.push([["pools", name], { name, ...p }]);
    }
    checkPools(pools, ctx, raw);
    const v = raw.vrrp;
    const vrrp: VrrpConfig | undefined = v && {
      router_id: v.router_id,
      scripts: v.scripts,
      instances: Object.entries(v.instances).map(([name, i]) => ({ name, ...i })),
      sync_groups: Object.entries(v.sync_groups).map(([name, g]) => ({ name, ...g })),
      enable_script_security: v.enable_script_security,
      shutdown_adverts: v.shutdown_adverts,
    };
    if (vrrp) checkVrrp(vrrp, ctx, raw);
    return {
      pools: pools.map(([, p]) => p),
      tcp: Object.entries(raw.tcp ?? {}).map(([name, s]) => ({ name, ...s })),
      vrrp,
      admin: raw.admin,
      log: raw.log ?? logSchema.parse({}),
      sentinel: raw.sentinel,
      node: raw.node,
      workers: raw.workers ?? 1,
    };
  });

export type { AdminConfig, LogConfig } from "./admin.js";
export type { Endpoint, TlsConfig } from "./common.js";
export type {
  HealthCheckConfig,
  HealthCheckOverride,
  PoolHealthConfig,
} from "./health.js";
export type {
  DistributionName,
  HashName,
  PoolConfig,
  PoolServer,
  ReplicaMemberConfig,
  ReplicaSetConfig,
  ServerConfig,
} from "./pool.js";
export type { SentinelConfig } from "./sentinel.js";
export type { TcpServerConfig, TcpServiceConfig } from "./tcp.js";
export type {
  VrrpConfig,
  VrrpInstanceConfig,
  VrrpScriptConfig,
  VrrpSyncGroupConfig,
} from "./vrrp.js";
