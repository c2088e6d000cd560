/**
 * `keepcache node`: a memcached-compatible cache node. The flags are memcached's own, so an
 * init script written for memcached works after renaming the binary.
 */
import { parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import { child } from "../log.js";
import { type NodeOptions, nodeDefaults } from "../node/options.js";
import { parseIntFlag, parseSize } from "./size.js";

export const nodeUsage = `usage: keepcache node [options]

  -p, --port N              TCP port to listen on (default 11211; 0 = any free port)
  -l, --listen ADDR         interface to listen on (default 127.0.0.1)
  -m, --memory-limit MB     item memory in megabytes (default 64)
  -I, --max-item-size SIZE  largest item, e.g. 1m, 512k (default 1m; 1k-128m)
  -c, --conn-limit N        max simultaneous connections (default 1024)
  -v, --verbose             log more (-vv for each command)
  -h, --help                show this help`;

export function parseNodeArgs(argv: string[]): NodeOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${nodeUsage}`);
  }
  const v = parsed.values;
  if (parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${parsed.positionals[0]}'\n\n${nodeUsage}`);
  }
  const o: NodeOptions = { ...nodeDefaults };
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
  return o;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      port: { type: "string", short: "p" },
      listen: { type: "string", short: "l" },
      "memory-limit": { type: "string", short: "m" },
      "max-item-size": { type: "string", short: "I" },
      "conn-limit": { type: "string", short: "c" },
      verbose: { type: "boolean", short: "v", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(`${nodeUsage}\n`);
    return 0;
  }
  const opts = parseNodeArgs(argv);
  const log = child("node");
  if (opts.verbosity > 0) log.level = opts.verbosity > 1 ? "trace" : "debug";
  const { CacheNode } = await import("../node/server.js");
  const node = new CacheNode(opts, log);
  // Handlers first: a signal that arrives while the listener starts must still stop cleanly.
  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info({ signal: sig }, "shutting down");
      if (stopping) return;
      stopping = true;
      node.close().then(resolve, resolve);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await node.listen();
  const addr = node.address();
  log.info(
    { host: addr.host, port: addr.port, memoryMb: opts.memoryLimitMb },
    "keepcache node ready",
  );
  await stopped;
  return 0;
}
