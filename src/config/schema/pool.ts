/**
 * A twemproxy server pool (nc_conf.c conf_commands) plus keepcache's optional extensions.
 * Every key twemproxy knows keeps its name, meaning and default (nc_conf.h CONF_DEFAULT_*), so
 * a nutcracker.yml loads unchanged; unknown keys are errors, as in conf_handler
 * ("directive ... is unknown").
 */
import { z } from "zod";
import { COMMANDS, commandId } from "../../protocol/resp/commands.js";
import { suggest } from "../../util/suggest.js";
import {
  atoi,
  type Endpoint,
  hostPortSchema,
  listenSchema,
  parseHostPort,
  posInt,
  text,
  tlsSchema,
  uint,
  validPort,
} from "./common.js";
import { poolHealthSchema } from "./health.js";

/** Order matters: it is twemproxy's HASH_CODEC order (nc_hashkit.h). */
export const HASHES = [
  "one_at_a_time",
  "md5",
  "crc16",
  "crc32",
  "crc32a",
  "fnv1_64",
  "fnv1a_64",
  "fnv1_32",
  "fnv1a_32",
  "hsieh",
  "murmur",
  "jenkins",
] as const;
export type HashName = (typeof HASHES)[number];
export const DISTRIBUTIONS = ["ketama", "modula", "random"] as const;
export type DistributionName = (typeof DISTRIBUTIONS)[number];

/** libmemcached compatibility: a server on this port is hashed by host alone (nc_conf.h). */
export const KETAMA_DEFAULT_PORT = 11211;

/** One twemproxy server line: "host:port:weight [name]" or "/path/sock:weight [name]". */
export interface ServerConfig {
  kind: "server";
  /** The line as written. */
  raw: string;
  /** twemproxy's pname: the line without the name ("host:port:weight"); stats use it. */
  pname: string;
  address: Endpoint;
  weight: number;
  /** The explicit name, if given. */
  name: string | undefined;
  /**
   * What the distribution hashes and what duplicate detection compares (conf_add_server):
   * the name, else "host" when the port is 11211, else "host:port", else the socket path.
   */
  key: string;
}

/**
 * Parses a server line exactly as conf_add_server: from the end, split at the last ' '
 * (optional name), then ':' (weight), then ':' (port; not for unix paths).
 */
export function parseServerString(raw: string): ServerConfig | string {
  const bad =
    'has an invalid "hostname:port:weight [name]" or "/path/unix_socket:weight [name]" format string';
  let rest = raw;
  let name: string | undefined;
  const sp = rest.lastIndexOf(" ");
  if (sp >= 0) {
    name = rest.slice(sp + 1);
    rest = rest.slice(0, sp);
  }
  const wq = rest.lastIndexOf(":");
  if (wq < 0) return bad;
  const weightText = rest.slice(wq + 1);
  const addr = rest.slice(0, wq);
  const weight = atoi(weightText);
  if (weight < 0) return 'has an invalid weight in "hostname:port:weight [name]" format string';
  if (weight === 0) return 'has a zero weight in "hostname:port:weight [name]" format string';
  if (raw.startsWith("/")) {
    return {
      kind: "server",
      raw,
      pname: rest,
      address: { kind: "unix", path: addr, mode: undefined },
      weight,
      name,
      key: name ?? addr,
    };
  }
  const pq = addr.lastIndexOf(":");
  if (pq < 0) return bad;
  const host = addr.slice(0, pq);
  const port = atoi(addr.slice(pq + 1));
  if (!validPort(port)) return 'has an invalid port in "hostname:port:weight [name]" format string';
  const key = name ?? (port === KETAMA_DEFAULT_PORT ? host : addr);
  return {
    kind: "server",
    raw,
    pname: rest,
    address: { kind: "tcp", host, port },
    weight,
    name,
    key,
  };
}

const serverStringSchema = z.string().transform((s, ctx): ServerConfig => {
  const r = parseServerString(s);
  if (typeof r === "string") {
    ctx.issues.push({ code: "custom", message: r, input: s });
    return z.NEVER;
  }
  return r;
});

/** Commands a client needs to log in and leave: deny_commands may not close them. */
const NEVER_CLOSED = ["auth", "hello", "quit", "reset"];

/**
 * allow_commands / deny_commands: Redis command names in any case, a container alone
 * ("config": every subcommand) or one subcommand ("config|get" or "config get"), checked
 * against Redis' own command table (protocol/resp/commands-table.ts).
 */
const commandListSchema = (closing: boolean) =>
  z.array(z.string()).superRefine((names, ctx) => {
    names.forEach((name, i) => {
      const id = commandId(name.trim());
      if (id < 0) {
        const s = suggest(
          name.trim().toLowerCase().replace(/\s+/, "|"),
          COMMANDS.map((c) => c.name),
        );
        ctx.issues.push({
          code: "custom",
          message: `unknown redis command "${name}"${s ? ` (did you mean ${s}?)` : ""}`,
          input: name,
          path: [i],
        });
      } else if (closing && NEVER_CLOSED.includes(COMMANDS[id].name)) {
        ctx.issues.push({
          code: "custom",
          message: `${COMMANDS[id].name} cannot be closed (clients need ${NEVER_CLOSED.join(", ")})`,
          input: name,
          path: [i],
        });
      }
    });
  });

export const MEMBER_ROLES = ["master", "replica", "any"] as const;
export const WRITE_POLICIES = ["all", "majority", "one"] as const;
export const READ_POLICIES = [
  "primary",
  "round-robin",
  "weighted",
  "least-outstanding",
  "master",
  "replica",
  "prefer-replica",
  "any",
] as const;
/** Where a cluster pool sends read-only commands. */
export const CLUSTER_READ = ["master", "replica", "prefer-replica"] as const;
export const FAILOVER_MODES = ["builtin", "sentinel", "none"] as const;

const memberSchema = z
  .strictObject({
    address: z.string(),
    role: z.enum(MEMBER_ROLES).default("any"),
    weight: posInt.default(1),
  })
  .transform((m, ctx) => {
    const hp = parseHostPort(m.address);
    if (typeof hp === "string") {
      ctx.issues.push({ code: "custom", message: hp, input: m.address, path: ["address"] });
      return z.NEVER;
    }
    return { ...m, endpoint: hp };
  });
export type ReplicaMemberConfig = z.output<typeof memberSchema>;

/**
 * A shard made of several members. Its NAME is what is hashed, so members can fail
 * over or move without remapping keys (the same idea as twemproxy's named servers).
 */
export const replicaSetSchema = z
  .strictObject({
    name: z.string().min(1),
    weight: posInt.default(1),
    members: z.array(memberSchema).min(1, { error: "a replica set needs at least one member" }),
    write: z.enum(WRITE_POLICIES).default("one"),
    read: z.enum(READ_POLICIES).default("primary"),
    failover: z.enum(FAILOVER_MODES).default("builtin"),
    sentinels: z.array(hostPortSchema).default([]),
    master_name: z.string().optional(),
    down_after: uint.default(1000),
    /** memcached sets: a miss on one member is retried on the next. */
    read_miss_failover: z.boolean().default(false),
    /** memcached sets of keepcache nodes that replicate among themselves: write: one → primary. */
    replicated: z.boolean().default(false),
    /** ms between ROLE polls of each member (Redis) / health probes (memcached). */
    check_interval: posInt.default(100),
    /** ms a returning memcached member may spend warming before it serves reads anyway. */
    warm_timeout: uint.default(10000),
    /** Run on every failover with Sentinel's client-reconfig-script arguments. */
    notify: text.optional(),
    /** Only the host that is VRRP MASTER of this instance runs builtin failover. */
    failover_vrrp_instance: z.string().min(1).optional(),
  })
  .refine((r) => r.failover !== "sentinel" || r.sentinels.length > 0, {
    error: "failover: sentinel needs sentinels: [host:port, ...]",
    path: ["sentinels"],
  })
  .refine((r) => r.failover !== "sentinel" || r.master_name !== undefined, {
    error: "failover: sentinel needs master_name (the name the sentinels monitor)",
    path: ["master_name"],
  })
  .refine((r) => r.members.filter((m) => m.role === "master").length <= 1, {
    error: "a replica set has at most one member with role: master",
    path: ["members"],
  })
  .transform((r) => ({ kind: "replicaset" as const, key: r.name, ...r }));
export type ReplicaSetConfig = z.output<typeof replicaSetSchema>;

export const poolSchema = z
  .strictObject({
    listen: listenSchema,
    hash: z.enum(HASHES).default("fnv1a_64"),
    hash_tag: text
      .refine((s) => s.length === 2, {
        error: "is not a valid hash tag string with two characters",
      })
      .optional(),
    distribution: z.enum(DISTRIBUTIONS).default("ketama"),
    /** ms; undefined = wait forever (CONF_DEFAULT_TIMEOUT -1). */
    timeout: uint.optional(),
    backlog: uint.default(512),
    preconnect: z.boolean().default(false),
    redis: z.boolean().default(false),
    redis_auth: text.optional(),
    redis_db: uint.default(0),
    /** Backend ACL user for data connections (command-policy.ts: it confines scripts). */
    redis_user: text.optional(),
    redis_user_password: text.optional(),
    allow_commands: commandListSchema(false).default([]),
    deny_commands: commandListSchema(true).default([]),
    server_connections: posInt.default(1),
    auto_eject_hosts: z.boolean().default(false),
    server_retry_timeout: uint.default(30000),
    server_failure_limit: uint.default(2),
    /** 0 = unlimited. */
    client_connections: uint.default(0),
    tcpkeepalive: z.boolean().default(false),
    servers: z
      .array(z.union([serverStringSchema, replicaSetSchema]))
      .min(1, { error: "pool has no servers" }),
    // keepcache extensions
    tls: tlsSchema.optional(),
    server_tls: tlsSchema.optional(),
    password: text.optional(),
    health: poolHealthSchema.optional(),
    retry: z.strictObject({ attempts: uint.default(1) }).optional(),
    /** Default: 1 MiB for memcached pools, 512 MiB (Redis' proto-max-bulk-len) for Redis pools. */
    max_request_bytes: posInt.optional(),
    /**
     * Per server: connections leased to one client each while it needs a server connection
     * of its own (blocking commands, WATCH, subscriber mode, MONITOR; proxy/dedicated.ts).
     */
    redis_dedicated_connections: posInt.default(256),
    client_output_limit: posInt.optional(),
    /**
     * The servers are seeds of a Redis Cluster (proxy/cluster/pool.ts): the pool learns the
     * slot map from them and routes by hash slot, following -MOVED/-ASK and the cluster's own
     * failover; hash, distribution and auto_eject_hosts do not apply.
     */
    redis_cluster: z.boolean().default(false),
    /** Cluster pools: where read-only commands go (replicas get READONLY). */
    read: z.enum(CLUSTER_READ).optional(),
    /** Cluster pools: ms between slot map refreshes when nothing asked for one. */
    cluster_refresh_interval: posInt.default(5000),
    /**
     * Cluster pools: ms a request to an unreachable master waits for the cluster to promote a
     * replica before it fails (0: fail at once).
     */
    cluster_failover_wait: uint.default(3000),
  })
  .refine((p) => p.redis === true || p.redis_cluster !== true, {
    when: () => true,
    error: 'is only valid for a redis pool (add "redis: true")',
    path: ["redis_cluster"],
  })
  .refine((p) => p.redis_cluster === true || p.read === undefined, {
    when: () => true,
    error: 'is only valid for a Redis Cluster pool (add "redis_cluster: true")',
    path: ["read"],
  })
  .refine((p) => p.redis_cluster !== true || (p.redis_db ?? 0) === 0, {
    when: () => true,
    error: "must be 0 for a Redis Cluster pool (a cluster has database 0 only)",
    path: ["redis_db"],
  })
  .superRefine((p, ctx) => {
    if (p.redis_cluster !== true || !Array.isArray(p.servers)) return;
    p.servers.forEach((s, i) => {
      if (s?.kind === "server" && s.address.kind === "tcp") return;
      ctx.issues.push({
        code: "custom",
        input: s,
        path: ["servers", i],
        message:
          'a Redis Cluster pool lists seed nodes as "host:port:weight" lines (no unix sockets or replica sets)',
      });
    });
  })
  .refine((p) => p.redis === true || p.redis_user === undefined, {
    when: () => true,
    error: 'is only valid for a redis pool (add "redis: true")',
    path: ["redis_user"],
  })
  .refine((p) => p.redis_user === undefined || p.redis_user_password !== undefined, {
    when: () => true,
    error: "redis_user needs redis_user_password (the ACL user's password)",
    path: ["redis_user"],
  })
  .refine(
    // Runs even when other keys failed (when: () => true), so the lists may be missing.
    (p) =>
      p.redis === true || (p.allow_commands?.length ?? 0) + (p.deny_commands?.length ?? 0) === 0,
    {
      when: () => true,
      error: 'allow_commands and deny_commands are only valid for a redis pool (add "redis: true")',
      path: [],
    },
  )
  .refine((p) => p.redis === true || p.redis_auth === undefined, {
    // Checked even when other keys of the pool are invalid, so it is reported with them.
    when: () => true,
    // nutcracker 0.5.0 rejects this file outright (checked with `nutcracker -t`).
    error: 'is only valid for a redis pool (add "redis: true")',
    path: ["redis_auth"],
  });

export type PoolConfig = z.output<typeof poolSchema> & { name: string };
export type PoolServer = ServerConfig | ReplicaSetConfig;
