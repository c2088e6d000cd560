/**
 * `keepcache up`: the whole thing on one machine, with no config and nothing else installed.
 * Two keepcache nodes replicating with each other (child processes of `keepcache node -x`,
 * so stopping or killing one is real), a memcached-protocol proxy pool in front of them that
 * fails over between them (a replica set, up-pool.ts), and the dashboard with a stop/start button per
 * node. `--redis` does the same with two redis-server processes from PATH (a master and its
 * replica; the proxy promotes the replica when the master dies).
 *
 * Ctrl-C (SIGINT) or SIGTERM stops everything and waits for every child; children also stop
 * by themselves if this process dies (up-procs.ts), so no process is left behind.
 */
import { DEFAULT_ADMIN_LISTEN, parseAdminListen } from "../admin/listen.js";
import { UsageError } from "../errors.js";
import { child } from "../log.js";
import { findOnPath } from "../scripts/path.js";
import { parseFlags } from "./flags.js";
import { parseIntFlag } from "./size.js";
import { watchParent } from "./up-procs.js";
import type { UpArgs } from "./up-run.js";

export const upUsage = `usage: keepcache up [options]

Starts a demo cluster on 127.0.0.1: two replicating keepcache nodes, a proxy in front of
them that fails over, and the dashboard. Ctrl-C stops everything.

  --port N            the proxy's port (default 22121)
  --admin HOST:PORT   the dashboard, /metrics and JSON API (default 127.0.0.1:9180)
  --redis             two redis-server processes (master + replica, from PATH) instead
  -v, --verbose       log more
  -h, --help          show this help`;

const UP_FLAGS = {
  port: { type: "string" },
  admin: { type: "string" },
  redis: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const;

function parseUpArgs(argv: string[]): UpArgs {
  const v = parseFlags(argv, UP_FLAGS, upUsage);
  return {
    port: v.port === undefined ? 22121 : parseIntFlag("--port", v.port, 1, 65535),
    admin: v.admin === undefined ? DEFAULT_ADMIN_LISTEN : parseAdminListen("--admin", v.admin),
    redis: v.redis === true,
    verbose: v.verbose === true,
  };
}

/** `keepcache up --child-of PID -- node ...`: a node that stops when its parent goes. */
async function childMain(argv: string[]): Promise<number> {
  const pid = Number(argv[1]);
  if (!Number.isInteger(pid) || argv[2] !== "--" || argv[3] !== "node") {
    throw new UsageError("--child-of PID -- node ARGS (internal to keepcache up)");
  }
  const undo = watchParent(pid);
  try {
    return await (await import("./node.js")).main(argv.slice(4));
  } finally {
    undo();
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--child-of") return childMain(argv);
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(`${upUsage}\n`);
    return 0;
  }
  const args = parseUpArgs(argv);
  const log = child("up");
  if (args.verbose) log.level = "debug";
  const redis = args.redis ? findOnPath("redis-server") : undefined;
  if (args.redis && redis === undefined) {
    process.stderr.write(
      "keepcache up --redis: redis-server is not on PATH.\n" +
        "Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)\n" +
        "or run 'keepcache up' without --redis for keepcache's own nodes.\n",
    );
    return 1;
  }
  const { startUp } = await import("./up-run.js");
  return startUp({ ...args, redisServer: redis }, log);
}
