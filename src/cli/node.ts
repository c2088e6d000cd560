/**
 * `keepcache node`: a memcached-compatible cache node. The flags are memcached's own, so an
 * init script written for memcached works after renaming the binary.
 */
import { type AdminListen, assertSafeListen, parseAdminListen } from "../admin/listen.js";
import { UsageError } from "../errors.js";
import { child, logFile, setLogLevel } from "../log.js";
import { type NodeOptions, nodeDefaults } from "../node/options.js";
import {
  deriveNodeId,
  isLoopback,
  type PeerAddress,
  parsePeer,
  type ReplicationOptions,
  replicationDefaults,
} from "../node/replication/options.js";
import { MEMCACHED_FLAGS } from "./compat.js";
import { daemonize, dropPrivileges, writePidFile } from "./daemon.js";
import { parseFlags, verboseLevel } from "./flags.js";
import { addDumpSection, onSighup } from "./signals.js";
import { parseDurationMs, parseIntFlag, parseSize } from "./size.js";

export const nodeUsage = `usage: keepcache node [options]

  -p, --port N              TCP port to listen on (default 11211; 0 = any free port)
  -l, --listen ADDR         interface to listen on (default 127.0.0.1)
  -m, --memory-limit MB     item memory in megabytes (default 64)
  -I, --max-item-size SIZE  largest item, e.g. 1m, 512k (default 1m; 1k-128m)
  -c, --conn-limit N        max simultaneous connections (default 1024)
  -v, --verbose             log more (-vv for each command)
  --admin HOST:PORT         serve the dashboard, /metrics and the JSON API there
                            (action token: env KEEPCACHE_ADMIN_TOKEN)

replication (N-way master-master; enabled by -x or --replication-port):
  -x, --peer HOST[:PORT]    a peer's replication address (repeatable; port default 11212)
  --replication-port N      replication listener (default: client port + 1; 0 = any)
  --node-id N               0-1023, unique per node (default: derived from address:port)
  --sync-replication[=N]    acknowledge a write only after N peers applied it (default 1)
  --sync-timeout DUR        then answer SERVER_ERROR replication timeout (default 500ms)
  --replication-secret S    shared secret for peer authentication
                            (or env KEEPCACHE_REPLICATION_SECRET)
  --insecure-replication    allow non-loopback peers without a secret
  --replication-backlog SZ  backlog ring for incremental resync (default 64m)
  --tombstone-ttl SECONDS   how long deletes are remembered (default 300)
  --peer-timeout DUR        a silent peer link is dropped after this (default 3s)
  -h, --help                show this help

memcached's own flags, so its init scripts work unchanged:
  -d, --daemon              run in the background (for init scripts; not under systemd)
  -P, --pidfile FILE        write the pid to FILE
  -u, --user USER           as root, become USER before listening
  -U -t -o -a -r -k -f -n -L -R -b -W are accepted and ignored with a warning`;

const NODE_FLAGS = {
  port: { type: "string", short: "p" },
  listen: { type: "string", short: "l" },
  "memory-limit": { type: "string", short: "m" },
  "max-item-size": { type: "string", short: "I" },
  "conn-limit": { type: "string", short: "c" },
  verbose: { type: "boolean", short: "v", multiple: true },
  admin: { type: "string" },
  peer: { type: "string", short: "x", multiple: true },
  "replication-port": { type: "string" },
  "node-id": { type: "string" },
  "sync-replication": { type: "string" },
  "sync-timeout": { type: "string" },
  "replication-secret": { type: "string" },
  "insecure-replication": { type: "boolean" },
  "replication-backlog": { type: "string" },
  "tombstone-ttl": { type: "string" },
  "peer-timeout": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** `--sync-replication` alone means 1 (parseArgs has no optional-value flags). */
function bareSyncFlag(argv: string[]): string[] {
  return argv.map((a) => (a === "--sync-replication" ? "--sync-replication=1" : a));
}

/** What the memcached flags keepcache acts on ask for (src/cli/daemon.ts). */
export interface NodeProcessOptions {
  daemonize: boolean;
  pidFile?: string;
  user?: string;
}

export function parseNodeArgs(
  argv: string[],
): NodeOptions & { admin?: AdminListen; process: NodeProcessOptions } {
  const v = parseFlags(bareSyncFlag(argv), NODE_FLAGS, nodeUsage, { flags: MEMCACHED_FLAGS });
  const o: NodeOptions & { admin?: AdminListen; process: NodeProcessOptions } = {
    ...nodeDefaults,
    process: { daemonize: v.daemon === true, pidFile: v.pidfile, user: v.user },
  };
  if (v.port !== undefined) o.port = parseIntFlag("-p/--port", v.port, 0, 65535);
  if (v.listen !== undefined) {
    if (v.listen.trim() === "") throw new UsageError("-l/--listen: empty address");
    o.host = v.listen;
  }
  if (v["memory-limit"] !== undefined) {
    o.memoryLimitMb = parseIntFlag("-m/--memory-limit", v["memory-limit"], 2, 1024 * 1024);
  }
  if (v["max-item-size"] !== undefined) {
    o.maxItemSize = parseSize("-I/--max-item-size", v["max-item-size"]);
    if (o.maxItemSize < 1024 || o.maxItemSize > 128 * 1024 * 1024) {
      throw new UsageError("-I/--max-item-size: must be between 1k and 128m");
    }
    if (o.maxItemSize > o.memoryLimitMb * 1024 * 1024) {
      throw new UsageError("-I/--max-item-size: cannot be larger than -m/--memory-limit");
    }
  }
  if (v["conn-limit"] !== undefined) {
    o.connLimit = parseIntFlag("-c/--conn-limit", v["conn-limit"], 1, 1_000_000);
  }
  o.verbosity = v.verbose?.length ?? 0;
  if (v.admin !== undefined) {
    o.admin = parseAdminListen("--admin", v.admin);
    assertSafeListen(o.admin, process.env.KEEPCACHE_ADMIN_TOKEN, "--admin");
  }
  o.replication = parseReplication(v, o);
  return o;
}

type Values = ReturnType<typeof parseFlags<typeof NODE_FLAGS, typeof MEMCACHED_FLAGS>>;

function parseReplication(v: Values, o: NodeOptions): ReplicationOptions | undefined {
  const peers: PeerAddress[] = [];
  for (const text of v.peer ?? []) {
    const p = parsePeer(text);
    if (p === null) throw new UsageError(`-x/--peer: '${text}' is not HOST[:PORT]`);
    peers.push(p);
  }
  if (peers.length === 0 && v["replication-port"] === undefined) {
    for (const f of ["sync-replication", "replication-secret", "node-id"] as const) {
      if (v[f] !== undefined) throw new UsageError(`--${f} needs -x/--peer or --replication-port`);
    }
    return undefined;
  }
  const r: ReplicationOptions = {
    ...replicationDefaults,
    peers,
    port: o.port === 0 ? 0 : o.port + 1,
    nodeId: deriveNodeId(o.host, o.port === 0 ? process.pid : o.port),
  };
  if (v["replication-port"] !== undefined) {
    r.port = parseIntFlag("--replication-port", v["replication-port"], 0, 65535);
  }
  if (r.port > 65535)
    throw new UsageError("--replication-port: client port + 1 is past 65535; set it");
  if (v["node-id"] !== undefined) r.nodeId = parseIntFlag("--node-id", v["node-id"], 0, 1023);
  if (v["sync-replication"] !== undefined) {
    r.syncReplicas = parseIntFlag("--sync-replication", v["sync-replication"], 0, 1023);
  }
  if (v["sync-timeout"] !== undefined)
    r.syncTimeoutMs = parseDurationMs("--sync-timeout", v["sync-timeout"]);
  if (v["peer-timeout"] !== undefined)
    r.peerTimeoutMs = parseDurationMs("--peer-timeout", v["peer-timeout"]);
  if (v["replication-backlog"] !== undefined) {
    r.backlogBytes = parseSize("--replication-backlog", v["replication-backlog"]);
  }
  if (v["tombstone-ttl"] !== undefined) {
    r.tombstoneTtl = parseIntFlag("--tombstone-ttl", v["tombstone-ttl"], 1, 30 * 24 * 3600);
  }
  r.secret = v["replication-secret"] ?? process.env.KEEPCACHE_REPLICATION_SECRET ?? "";
  r.insecure = v["insecure-replication"] === true;
  if (r.secret === "" && !r.insecure) {
    // Without a secret anyone who can reach the port can read and write every item.
    const open = peers.find((p) => !isLoopback(p.host));
    if (open) {
      throw new UsageError(
        `-x/--peer ${open.host}: a non-loopback peer needs --replication-secret (or KEEPCACHE_REPLICATION_SECRET), or --insecure-replication`,
      );
    }
    if (!isLoopback(o.host)) {
      throw new UsageError(
        `-l/--listen ${o.host}: replication on a non-loopback address needs --replication-secret, or --insecure-replication`,
      );
    }
  }
  return r;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(`${nodeUsage}\n`);
    return 0;
  }
  const opts = parseNodeArgs(argv);
  if (opts.process.daemonize && daemonize(undefined) !== undefined) return 0;
  // The pid file first: as root it can be written anywhere, as after -u it may not.
  if (opts.process.pidFile !== undefined) writePidFile(opts.process.pidFile);
  if (opts.process.user !== undefined) dropPrivileges(opts.process.user);
  const level = verboseLevel(opts.verbosity);
  if (level !== undefined) setLogLevel(level);
  const log = child("node");
  const { CacheNode } = await import("../node/server.js");
  const node = new CacheNode(opts, log);
  const { generalStats } = await import("../node/stats.js");
  const { replicationPeers } = await import("../admin/node-source.js");
  // The SIGUSR1 dump: where it listens, its `stats`, its replication peers.
  addDumpSection("node", () => {
    const a = node.address();
    const repl = node.ctx.repl;
    return {
      listen: `${a.host}:${a.port}`,
      stats: Object.fromEntries(generalStats(node.ctx)),
      peers: repl ? replicationPeers(repl) : [],
    };
  });
  // No config file to re-read: SIGHUP reopens the log file (signals.ts) and says so.
  onSighup(() => log.info({ logFile: logFile() ?? "stderr" }, "SIGHUP: log reopened"));
  // Handlers first: a signal that arrives while the listener starts must still stop cleanly.
  let stopping = false;
  let admin: { close(): Promise<void> } | undefined;
  const stopped = new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info({ signal: sig }, "shutting down");
      if (stopping) return;
      stopping = true;
      Promise.all([node.close(), admin?.close()]).then(() => resolve(), resolve);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  let replicationPort: number | undefined;
  try {
    // Every port asked for, or none: a node serving without its replication port would
    // look like it replicates (the CLI prints the ListenError's one line and exits 3).
    await node.listen();
    replicationPort = await node.startReplication();
    if (opts.admin !== undefined) {
      const { startNodeAdmin } = await import("../admin/node-admin.js");
      admin = await startNodeAdmin(opts.admin, node, log);
    }
  } catch (err) {
    await Promise.allSettled([node.close(), admin?.close()]);
    throw err;
  }
  const addr = node.address();
  log.info(
    { host: addr.host, port: addr.port, memoryMb: opts.memoryLimitMb, replicationPort },
    "keepcache node ready",
  );
  await stopped;
  return 0;
}
