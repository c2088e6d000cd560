/**
 * `keepcache` entry point: picks the subcommand and hands over. Each subcommand lives in its
 * own file and exports `main(argv): Promise<number>` returning the exit code.
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
    if (err instanceof UsageError) {
      process.stderr.write(`keepcache ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof KeepcacheError) {
      process.stderr.write(`keepcache ${name}: ${err.message} [${err.code}]\n`);
      return 1;
    }
    throw err;
  }
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
