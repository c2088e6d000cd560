/**
 * The flags of the programs keepcache replaces, so their init scripts and units keep working
 * after the binary's name changes: memcached 1.6's (`memcached -h`) for `keepcache node`,
 * nutcracker 0.5's (`nutcracker -h`) for `keepcache run`. Flags keepcache acts on are handled by
 * the subcommand (-d, -P/-p, -u, -t); the rest carry the reason they are ignored, which the
 * parser prints as a warning. Flags whose absence would weaken security (memcached -S SASL,
 * -Y auth file, -Z TLS) or change where it listens (-s unix socket) are not listed: an unknown
 * flag stops the start-up, which is safer than serving without them.
 */
import type { CompatFlags } from "./flags.js";

const TUNING = "keepcache's store and event loop have no such knob";

export const MEMCACHED_FLAGS = {
  daemon: { type: "boolean", short: "d" },
  pidfile: { type: "string", short: "P" },
  user: { type: "string", short: "u" },
  "udp-port": {
    type: "string",
    short: "U",
    ignored: "keepcache serves TCP only (memcached's default since 1.5.6 is UDP off too)",
  },
  threads: {
    type: "string",
    short: "t",
    ignored: "one event loop per process; use a keepcache run pool with workers: N to scale",
  },
  extended: { type: "string", short: "o", multiple: true, ignored: TUNING },
  "unix-mask": { type: "string", short: "a", ignored: "keepcache node has no unix socket" },
  "enable-coredumps": { type: "boolean", short: "r", ignored: "set LimitCORE= in the unit" },
  "lock-memory": { type: "boolean", short: "k", ignored: TUNING },
  "slab-growth-factor": { type: "string", short: "f", ignored: TUNING },
  "slab-min-size": { type: "string", short: "n", ignored: TUNING },
  "enable-largepages": { type: "boolean", short: "L", ignored: TUNING },
  "max-reqs-per-event": { type: "string", short: "R", ignored: TUNING },
  "listen-backlog": { type: "string", short: "b", ignored: TUNING },
  "disable-watch": { type: "boolean", short: "W", ignored: "keepcache has no watch command" },
} as const satisfies CompatFlags;

export const NUTCRACKER_FLAGS = {
  "test-conf": { type: "boolean", short: "t" },
  daemonize: { type: "boolean", short: "d" },
  "pid-file": { type: "string", short: "p" },
  output: { type: "string", short: "o" },
  "describe-stats": {
    type: "boolean",
    short: "D",
    ignored: "the stats port serves twemproxy's JSON; /metrics on --admin describes each counter",
  },
  "stats-interval": {
    type: "string",
    short: "i",
    ignored: "keepcache's stats are live: each read of the stats port is current",
  },
  "mbuf-size": { type: "string", short: "m", ignored: "keepcache sizes its buffers per request" },
} as const satisfies CompatFlags;

/**
 * nutcracker's `-v N` / `-vN` / `--verbose=N` (log level 0-11, default 5) as keepcache's
 * repeatable -v: 6 (info) and 7 (debug) are -v, 8 and up -vv; 5 and below the default.
 * Rewritten before parsing, so the one parser sees keepcache's form.
 */
export function nutcrackerVerbose(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^(?:-v|--verbose=?)(\d+)?$/.exec(a);
    let level: string | undefined = m?.[1];
    if (m && level === undefined && /^\d+$/.test(argv[i + 1] ?? "")) level = argv[++i];
    if (!m || level === undefined) {
      out.push(a);
      continue;
    }
    const n = Number(level);
    if (n >= 8) out.push("-vv");
    else if (n >= 6) out.push("-v");
  }
  return out;
}
