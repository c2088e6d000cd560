/**
 * `keepcache` entry point: picks the subcommand and hands over. Each subcommand lives in its
 * own file and exports `main(argv): Promise<number>` returning the exit code.
 *
 * Exit codes (README "Exit codes"): 0 done; 1 a runtime failure; 2 bad usage or an invalid or
 * unreadable config (each problem on its own line with file and line); 3 a listener could not
 * be opened (one line naming the address and the cause). No stack trace for any of these.
 */
import { KeepcacheError, UsageError } from "../errors.js";
import { guardProcess } from "./inspector.js";

type Sub = (argv: string[]) => Promise<number>;
const commands: Record<string, { summary: string; load: () => Promise<Sub> }> = {
  up: {
    summary: "start a demo cluster: two replicating nodes, a failover proxy, the dashboard",
    load: async () => (await import("./up.js")).main,
  },
  node: {
    summary: "run a memcached-compatible cache node (with replication peers)",
    load: async () => (await import("./node.js")).main,
  },
  run: {
    summary: "run a config: proxy pools (twemproxy nutcracker.yml or keepcache YAML), tcp services",
    load: async () => (await import("./run.js")).main,
  },
  check: {
    summary: "validate a config file (keepcache YAML or twemproxy nutcracker.yml)",
    load: async () => (await import("./check.js")).main,
  },
  vrrp: {
    summary: "run VRRP virtual-IP failover (keepcache YAML or keepalived.conf)",
    load: async () => (await import("./vrrp.js")).main,
  },
  import: {
    summary: "print keepcache YAML for a keepalived.conf, naming what cannot be mapped",
    load: async () => (await import("./import.js")).main,
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(8)} ${c.summary}`);
  return `usage: keepcache [--inspect[=[HOST:]PORT]] <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun 'keepcache <command> --help' for a command's options. --inspect opens the Node\ninspector on purpose (never through NODE_OPTIONS or SIGUSR1: SIGUSR1 writes a state dump).`;
}

async function run(args: string[]): Promise<number> {
  let argv: string[];
  try {
    // First, before any await: the SIGUSR1 handler and the inspector policy.
    argv = guardProcess(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`keepcache: ${err.message}\n`);
    return 2;
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "-V" || name === "--version") {
    const { VERSION } = await import("../version.js");
    process.stdout.write(`keepcache ${VERSION}\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`keepcache: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  try {
    return await (await cmd.load())(rest);
  } catch (err) {
    if (!(err instanceof KeepcacheError)) throw err;
    // ConfigErrors carries every problem of a file: one line each.
    const list = (err as { errors?: Error[] }).errors ?? [err];
    const tag = exitCodeOf(err) === 1 ? ` [${err.code}]` : "";
    for (const e of list) process.stderr.write(`keepcache ${name}: ${e.message}${tag}\n`);
    // A command that failed to start may hold timers or sockets it opened before the
    // failure; nothing of it may keep running (stderr is synchronous on files and pipes).
    process.exit(exitCodeOf(err));
  }
}

/** The documented exit code of a failure (README "Exit codes"). */
function exitCodeOf(err: KeepcacheError): number {
  if (err instanceof UsageError || err.code.startsWith("KC_CONFIG_")) return 2;
  if (err.code === "KC_LISTEN") return 3;
  return 1;
}

run(process.argv.slice(2)).then(
  (code) => {
    // Long-running commands resolve only when they have shut down; -1 means "keep running".
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`keepcache: fatal: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
